// Puts one verified bundle payload into a slot file, whatever its encoding (RAUC's handler
// table, for the one slot type this agent has): raw is copied from the staged file in the kernel
// (its hash was checked before, on the very descriptor the copy reads), zstd is decompressed,
// zstd-patch is decoded against the active slot, mapped read-only, as its prefix; a decoded
// target's size and SHA-256 are checked as it streams into the slot.
#pragma once

#include "agent/SlotStore.h"
#include "bundle/Bundle.h"
#include "bundle/BundleVerifier.h"
#include "common/Error.h"

#include <QString>

namespace otafleet::agent {

class PayloadWriter {
public:
    // Before anything is written: a zstd-patch payload must have been made against exactly the
    // image in the active slot. Error bundle.delta-base-mismatch otherwise.
    [[nodiscard]] static Status checkBase(const bundle::PayloadEntry& entry,
                                          const SlotContent& active);

    // Writes the payload's target bytes into slot `target` (truncating it) and fsyncs, through
    // SlotStore::writeSlot for every encoding (one instrumented writer), with `active` (read
    // only) as the base of a zstd-patch. `staged` is the bundle file `reader` reads, opened
    // before its payload's hash was checked: a raw payload is copied from it as it is. Errors:
    // io.*, agent.slot-write-failed, bundle.payload-corrupted (stored or target hash, undecodable
    // data), bundle.decompress-failed, bundle.truncated.
    [[nodiscard]] static Status write(const SlotStore& slots, SlotId target, SlotId active,
                                      const bundle::BundleReader& reader, int index, int staged,
                                      const bundle::Progress& progress);
};

}  // namespace otafleet::agent
