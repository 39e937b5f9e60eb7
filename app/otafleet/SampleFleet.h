// `otafleet --sample-fleet`: fills an empty fleet file with simulated devices and a rollout
// history, so every view has something to show (trying the console, the README's screenshots,
// tests/gui/render_views.sh). The devices sit at documentation addresses (192.0.2.0/24) that
// nothing answers: the console does not contact them, and says so. Deterministic: the same
// store comes out every time, dated relative to `now`.
//
// What it writes: kDevices devices of three models and hardware revisions across several
// firmware versions (some offline, a few with a failed last update), and four rollouts run by
// the real rollout engine on a manual clock: one completed, one the engine paused itself
// (its first wave crossed the failure threshold), a production security fix awaiting approval,
// and a draft.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QString>

namespace otafleet::store {
class FleetStore;
}

namespace otafleet::app {

class SampleFleet {
public:
    static constexpr int kDevices = 320;

    // Error sample.not-empty when the store already holds devices; store.* and rollout.* as
    // the layers report them.
    [[nodiscard]] static Status seed(store::FleetStore& store, const QDateTime& now);
    // Whether `uri` is one of the simulated devices' addresses (TEST-NET-1, 192.0.2.0/24).
    [[nodiscard]] static bool isSampleDevice(const QString& uri);
};

}  // namespace otafleet::app
