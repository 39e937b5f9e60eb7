#include "rollout/RolloutTypes.h"

namespace otafleet::rollout {
namespace {

constexpr std::array<const char*, 7> kRolloutStateNames{
    "draft", "awaiting_approval", "scheduled", "running", "paused", "completed", "aborted"};
constexpr std::array<const char*, kDeviceStateCount> kDeviceStateNames{
    "pending",   "offered", "downloading", "installing", "rebooting", "verifying",
    "succeeded", "failed",  "reverted",    "timed_out",  "skipped"};

}  // namespace

QString rolloutStateName(RolloutState state) {
    return QString::fromLatin1(kRolloutStateNames[static_cast<std::size_t>(state)]);
}

std::optional<RolloutState> rolloutStateFromName(QStringView name) {
    for (std::size_t i = 0; i < kRolloutStateNames.size(); ++i) {
        if (name == QLatin1StringView(kRolloutStateNames[i])) {
            return static_cast<RolloutState>(i);
        }
    }
    return std::nullopt;
}

QString deviceStateName(DeviceState state) {
    return QString::fromLatin1(kDeviceStateNames[static_cast<std::size_t>(state)]);
}

std::optional<DeviceState> deviceStateFromName(QStringView name) {
    for (std::size_t i = 0; i < kDeviceStateNames.size(); ++i) {
        if (name == QLatin1StringView(kDeviceStateNames[i])) {
            return static_cast<DeviceState>(i);
        }
    }
    return std::nullopt;
}

}  // namespace otafleet::rollout
