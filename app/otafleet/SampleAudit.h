// The audit history of `otafleet --sample-fleet`: what a lab's log would hold after the sample's
// devices were added and its rollouts run (store::AuditLog, the real hash chain), dated from the
// store's own records, so the audit view has entries to filter and verify. Only into an empty
// log; otherwise nothing is written.
#pragma once

#include "common/Error.h"

namespace otafleet::store {
class FleetStore;
}

namespace otafleet::app {

class SampleAudit {
public:
    // The first kDevicesLogged devices' additions, each rollout's creation and state, and a few
    // refusals. Errors: store.*.
    static constexpr int kDevicesLogged = 24;
    [[nodiscard]] static Status seed(store::FleetStore& store);
};

}  // namespace otafleet::app
