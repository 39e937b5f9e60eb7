// The A/B slots and, beside them, each slot's signed manifest and signature
// (DATA/state/slot-a.manifest, .sig). A slot is a regular file holding exactly the raw payload,
// or a block device (a partition) whose first `size` bytes hold it; either way the boot verifier
// hashes exactly the bytes the manifest it was installed from describes.
#pragma once

#include "agent/BootControl.h"
#include "bundle/BundleVerifier.h"
#include "common/Error.h"
#include "crypto/Cms.h"

#include <QByteArray>
#include <QString>

#include <functional>

namespace otafleet::agent {

struct SlotContent {
    QString version;
    quint64 securityVersion = 0;
    QByteArray sha256;  // raw
    quint64 size = 0;
};

// Where a slot's bytes go while SlotStore::writeSlot runs.
class SlotSink : public bundle::PayloadSink {
public:
    // Copies `size` bytes of the file `source` from `offset` into the slot, in the kernel
    // (copy_file_range: no pass through this process) where the two files allow it, else through
    // one 1 MiB buffer; progress(done, size) as it goes. Nothing is hashed: the caller copies
    // bytes it has checked (a StagedFile that stayed unchanged). Errors:
    // agent.slot-write-failed, io.read-failed, bundle.truncated (the source ends early).
    [[nodiscard]] virtual Status copyFrom(int source, qint64 offset, quint64 size,
                                          const bundle::Progress& progress) = 0;
};

class SlotStore {
public:
    SlotStore(QString slotA, QString slotB, QString stateDir);

    [[nodiscard]] QString slotPath(SlotId slot) const;
    [[nodiscard]] QString manifestPath(SlotId slot) const;
    [[nodiscard]] QString signaturePath(SlotId slot) const;

    // What a block-device slot can hold (its size, BLKGETSIZE64); 0 for a regular file, whose
    // size the config's slot_size bounds. Errors: io.read-failed (missing or unreadable slot).
    [[nodiscard]] Result<quint64> blockCapacity(SlotId slot) const;

    // Re-verifies the stored manifest's signature against `trust` and hashes the slot file.
    // Errors: agent.slot-empty (no manifest), agent.tamper-detected (signature, size or hash),
    // io.read-failed (the slot could not be read: transient, the slot is not judged).
    [[nodiscard]] Result<SlotContent> verify(SlotId slot, const crypto::TrustStore& trust) const;
    // The manifest's description without any check (GetInfo of a slot that is not booted).
    [[nodiscard]] Result<SlotContent> describe(SlotId slot) const;
    [[nodiscard]] Status storeManifest(SlotId slot, QByteArrayView manifest,
                                       QByteArrayView signature) const;

    // The one way bytes reach a slot, whatever made them (a raw copy, zstd, a zstd-patch): opens
    // the slot (truncating a file; a block device keeps its size), lets `produce` write into a sink
    // that passes every byte through the fault-injection hooks (crash::slotWriteAllowance, so the
    // sweep can cut the write anywhere), then fsyncs once. Crash points slot-opened, slot-written,
    // slot-synced. Errors: io.write-failed (open), agent.slot-write-failed (write, ENOSPC, fsync),
    // or `produce`'s.
    using Producer = std::function<Status(SlotSink& slot)>;
    [[nodiscard]] Status writeSlot(SlotId slot, const Producer& produce) const;

private:
    [[nodiscard]] static Result<SlotContent> describeBytes(SlotId slot, const QByteArray& bytes);
    QString m_slots[2];
    QString m_stateDir;
};

[[nodiscard]] SlotContent contentOf(const bundle::Manifest& manifest);

}  // namespace otafleet::agent
