#include "agent/PayloadWriter.h"

#include "bundle/PayloadDecoder.h"

#include <QFile>

#include <algorithm>

namespace otafleet::agent {
namespace {

std::unexpected<Error> baseMismatch(const bundle::PayloadEntry& entry, const QString& detail) {
    return fail(QStringLiteral("bundle.delta-base-mismatch"),
                QStringLiteral("Payload '%1' is a delta made against another firmware than the "
                               "one this device runs (%2); nothing was written. Send the full "
                               "bundle, or a delta made from the installed version.")
                    .arg(entry.name, detail));
}

}  // namespace

Status PayloadWriter::checkBase(const bundle::PayloadEntry& entry, const SlotContent& active) {
    if (entry.encoding != bundle::Encoding::ZstdPatch) {
        return {};
    }
    if (active.sha256 != entry.baseSha256) {
        return baseMismatch(entry, QStringLiteral("base %1, installed %2")
                                       .arg(QString::fromLatin1(entry.baseSha256.toHex().left(16)),
                                            QString::fromLatin1(active.sha256.toHex().left(16))));
    }
    return {};
}

Status PayloadWriter::write(const SlotStore& slots, SlotId target, SlotId active,
                            const bundle::BundleReader& reader, int index, int staged,
                            const bundle::Progress& progress) {
    const bundle::PayloadEntry& entry = reader.manifest().payloads.at(index);
    if (entry.encoding == bundle::Encoding::Raw) {
        return slots.writeSlot(target, [&](SlotSink& slot) {
            return slot.copyFrom(staged, reader.payloadOffset(index), entry.size, progress);
        });
    }
    const QString basePath = slots.slotPath(active);
    // The base stays mapped read-only while the patch is decoded; zstd references it in place.
    QFile baseFile(basePath);
    QByteArrayView base;
    if (entry.encoding == bundle::Encoding::ZstdPatch) {
        if (!baseFile.open(QIODevice::ReadOnly)) {
            return fail(QStringLiteral("io.read-failed"),
                        QStringLiteral("Could not read the active slot %1 (%2).")
                            .arg(basePath, baseFile.errorString()));
        }
        // Exactly the installed image: a slot file is the image, a block-device slot holds it
        // at its start and is larger.
        auto capacity = slots.blockCapacity(active);
        if (!capacity)
            return fail(capacity.error());
        qint64 size = baseFile.size();
        if (*capacity > 0) {
            auto installed = slots.describe(active);
            if (!installed)
                return fail(installed.error());
            size = static_cast<qint64>(std::min<quint64>(installed->size, *capacity));
        }
        if (size > 0) {
            const uchar* mapped = baseFile.map(0, size);
            if (!mapped) {
                return fail(QStringLiteral("io.read-failed"),
                            QStringLiteral("Could not map the active slot %1 (%2).")
                                .arg(basePath, baseFile.errorString()));
            }
            base = QByteArrayView(mapped, size);
        }
    }
    // Decoded bytes take the same instrumented path into the slot as raw ones.
    return slots.writeSlot(target, [&](SlotSink& slot) -> Status {
        auto decoder = bundle::PayloadDecoder::create(entry, slot, base);
        if (!decoder)
            return fail(decoder.error());
        if (auto ok = bundle::BundleVerifier::streamPayload(reader, index, **decoder, progress);
            !ok) {
            return ok;
        }
        return (*decoder)->finish();
    });
}

}  // namespace otafleet::agent
