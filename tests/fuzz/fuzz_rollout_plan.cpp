// Fuzz target: a stored rollout plan (the JSON otafleetd keeps and reads back after a restart),
// and the same bytes as each of `rollout create`'s option strings. Must refuse anything invalid
// with an error; a plan it accepts must serialize to JSON that reads back to the same plan.
#include "rollout/RolloutPlan.h"

#include <QDateTime>
#include <QTimeZone>

#include <cstddef>
#include <cstdint>

using otafleet::rollout::MaintenanceWindow;
using otafleet::rollout::PlanOptions;
using otafleet::rollout::Prechecks;
using otafleet::rollout::RolloutPlan;

namespace {

void checkRoundTrip(const RolloutPlan& plan) {
    auto again = RolloutPlan::fromJsonBytes(plan.toJsonBytes());
    if (!again || !(*again == plan) || plan.describe().isEmpty()) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArrayView bytes(data, static_cast<qsizetype>(size));
    if (auto plan = RolloutPlan::fromJsonBytes(bytes)) {
        checkRoundTrip(*plan);
    } else if (plan.error().code.isEmpty() || plan.error().message.isEmpty()) {
        __builtin_trap();
    }
    if (size > 512) {
        return 0;
    }
    const QString text = QString::fromUtf8(bytes);
    PlanOptions options;
    options.waves = text;
    if (auto plan = RolloutPlan::fromOptions(options)) {
        checkRoundTrip(*plan);
    }
    options.waves = QStringLiteral("100%");
    options.soak = text;
    options.rate = text;
    options.ramp = text;
    options.successThreshold = text;
    (void)RolloutPlan::fromOptions(options);
    if (auto window = MaintenanceWindow::parse(text)) {
        const QDateTime now = QDateTime::fromSecsSinceEpoch(1767225600, QTimeZone::utc());
        auto again = MaintenanceWindow::parse(window->toString());
        if (!again || again->toString() != window->toString() ||
            again->isOpen(now) != window->isOpen(now)) {
            __builtin_trap();
        }
        const QDateTime next = window->nextOpening(now);
        if (!next.isValid() || next <= now) {
            __builtin_trap();
        }
    }
    if (auto checks = Prechecks::parse(text)) {
        auto again = Prechecks::parse(checks->toString());
        if (!again || !(*again == *checks)) {
            __builtin_trap();
        }
    }
    return 0;
}
