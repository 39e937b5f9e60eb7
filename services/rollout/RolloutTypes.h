// Names shared by the engine, its status and its JSON: rollout states, device states and the
// events a host reports for a device. The lower-case names are a contract (JSON keys and
// values, `rollout status --json`); never rename them.
#pragma once

#include <QString>

#include <array>
#include <optional>

namespace otafleet::rollout {

// draft, awaiting_approval, scheduled, running, paused, completed, aborted
enum class RolloutState { Draft, AwaitingApproval, Scheduled, Running, Paused, Completed, Aborted };

// pending (not offered yet, or waiting for a retry), offered, downloading, installing, rebooting,
// verifying, succeeded, failed, reverted, timed_out, skipped
enum class DeviceState {
    Pending,
    Offered,
    Downloading,
    Installing,
    Rebooting,
    Verifying,
    Succeeded,
    Failed,
    Reverted,
    TimedOut,
    Skipped,
};
inline constexpr std::size_t kDeviceStateCount = 11;
inline constexpr std::array kAllDeviceStates{
    DeviceState::Pending,    DeviceState::Offered,   DeviceState::Downloading,
    DeviceState::Installing, DeviceState::Rebooting, DeviceState::Verifying,
    DeviceState::Succeeded,  DeviceState::Failed,    DeviceState::Reverted,
    DeviceState::TimedOut,   DeviceState::Skipped,
};

// What a host reports about one device. kind uses the device-state names (offered ...
// skipped); reason is the failure reason (failed, reverted) or the refused pre-check (skipped).
struct DeviceEvent {
    DeviceState kind = DeviceState::Offered;  // never Pending
    QString reason;
};

[[nodiscard]] QString rolloutStateName(RolloutState state);
[[nodiscard]] std::optional<RolloutState> rolloutStateFromName(QStringView name);
[[nodiscard]] QString deviceStateName(DeviceState state);
[[nodiscard]] std::optional<DeviceState> deviceStateFromName(QStringView name);

// offered .. verifying: the device holds an offer and has not finished.
[[nodiscard]] constexpr bool isInFlight(DeviceState s) {
    return s == DeviceState::Offered || s == DeviceState::Downloading ||
           s == DeviceState::Installing || s == DeviceState::Rebooting ||
           s == DeviceState::Verifying;
}
// failed, reverted, timed_out: a final failure, counted against the failure threshold.
[[nodiscard]] constexpr bool isFailure(DeviceState s) {
    return s == DeviceState::Failed || s == DeviceState::Reverted || s == DeviceState::TimedOut;
}
[[nodiscard]] constexpr bool isFinished(DeviceState s) {
    return s == DeviceState::Succeeded || s == DeviceState::Skipped || isFailure(s);
}

}  // namespace otafleet::rollout
