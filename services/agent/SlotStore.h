// The A/B slot files and, beside them, each slot's signed manifest and signature
// (DATA/state/slot-a.manifest, .sig). A slot file holds exactly the raw payload, so the boot
// verifier can hash it and compare with the manifest it was installed from.
#pragma once

#include "agent/BootControl.h"
#include "bundle/BundleVerifier.h"
#include "common/Error.h"
#include "crypto/Cms.h"

#include <QByteArray>
#include <QString>

namespace otafleet::agent {

struct SlotContent {
    QString version;
    quint64 securityVersion = 0;
    QByteArray sha256;  // raw
    quint64 size = 0;
};

class SlotStore {
public:
    SlotStore(QString slotA, QString slotB, QString stateDir);

    [[nodiscard]] QString slotPath(SlotId slot) const;
    [[nodiscard]] QString manifestPath(SlotId slot) const;
    [[nodiscard]] QString signaturePath(SlotId slot) const;

    // Re-verifies the stored manifest's signature against `trust` and hashes the slot file.
    // Errors: agent.slot-empty (no manifest), agent.tamper-detected (signature, size or hash),
    // io.read-failed (the slot could not be read: transient, the slot is not judged).
    [[nodiscard]] Result<SlotContent> verify(SlotId slot, const crypto::TrustStore& trust) const;
    // The manifest's description without any check (GetInfo of a slot that is not booted).
    [[nodiscard]] Result<SlotContent> describe(SlotId slot) const;
    [[nodiscard]] Status storeManifest(SlotId slot, QByteArrayView manifest,
                                       QByteArrayView signature) const;

    // Writes a verified bundle's payload into the slot file (truncating it), fsyncs at the end.
    // The caller has already hash-checked the staged payload; streamPayload checks it again.
    [[nodiscard]] Status writePayload(SlotId slot, const bundle::BundleReader& reader, int index,
                                      const bundle::Progress& progress) const;

private:
    [[nodiscard]] static Result<SlotContent> describeBytes(SlotId slot, const QByteArray& bytes);
    QString m_slots[2];
    QString m_stateDir;
};

[[nodiscard]] SlotContent contentOf(const bundle::Manifest& manifest);

}  // namespace otafleet::agent
