// `otafleet --sample-fleet` also fills the Releases view: a few small bundles made, signed and
// imported by the same code the view uses (fleet/ReleaseWork.h), one of them signed by two
// people and one revoked. Signing needs a PKI: when the sample data folder has none, a sample
// PKI with key files (no token, said in its name) is made there first; a PKI whose keys are in a
// token (the demo's) is left alone and no sample release is made, because that needs a PIN.
#pragma once

#include "common/Error.h"
#include "fleet/ReleaseWork.h"

namespace otafleet::app {

class SampleReleases {
public:
    // Error sample.not-empty when releases exist already; pki.*, bundle.*, store.*, io.* as
    // the layers report them.
    [[nodiscard]] static Status seed(const fleet::release::Places& places);
};

}  // namespace otafleet::app
