#include "bundle/BundleVerifier.h"

#include "bundle/Logging.h"
#include "crypto/Sha256.h"

#include <QFile>

#include <algorithm>

namespace otafleet::bundle {
namespace {

constexpr qint64 kBlock = 1024 * 1024;

class NullSink final : public PayloadSink {
public:
    Status write(QByteArrayView /*data*/) override { return {}; }
};

QString isoTime(const QDateTime& t) {
    return t.toUTC().toString(Qt::ISODate);
}

}  // namespace

Result<VerifiedBundle> BundleVerifier::verifyMetadata(const BundleReader& reader,
                                                      const VerifyPolicy& policy) {
    const Manifest& m = reader.manifest();
    if (reader.signature().isEmpty()) {
        return fail(QStringLiteral("bundle.unsigned"),
                    QStringLiteral("This bundle is not signed, so nothing proves who made it. "
                                   "Have a release manager sign it (otafleetctl bundle sign) "
                                   "before installing it."));
    }
    // The signature and trust chain come first: nothing else in the manifest means anything
    // until it is known to come from a trusted signer.
    auto signers = crypto::verifyDetached(reader.manifestBytes(), reader.signature(), policy.trust,
                                          policy.now, policy.threshold);
    if (!signers) {
        return std::unexpected(signers.error());
    }
    if (m.expires && policy.now >= *m.expires) {
        return fail(QStringLiteral("bundle.expired"),
                    QStringLiteral("This bundle expired at %1 (it is now %2): an old release "
                                   "may be replayed to freeze a device on outdated firmware. "
                                   "Use a current release.")
                        .arg(isoTime(*m.expires), isoTime(policy.now)));
    }
    if (m.securityVersion < policy.minSecurityVersion) {
        return fail(QStringLiteral("bundle.rollback"),
                    QStringLiteral("This bundle's security version %1 is lower than the "
                                   "device's %2: it would roll the device back to firmware with "
                                   "known holes. Use a newer release.")
                        .arg(m.securityVersion)
                        .arg(policy.minSecurityVersion));
    }
    if (!policy.hardware.isEmpty() && !m.hardware.contains(policy.hardware)) {
        return fail(QStringLiteral("bundle.wrong-hardware"),
                    QStringLiteral("This bundle is for hardware %1, not for this device's %2; "
                                   "installing it could brick the device. Choose the release "
                                   "built for %2.")
                        .arg(m.hardware.join(QStringLiteral(", ")), policy.hardware));
    }
    if (policy.agentVersion && *policy.agentVersion < m.minAgentVersion) {
        return fail(QStringLiteral("bundle.agent-too-old"),
                    QStringLiteral("This bundle needs agent %1 or newer, but the device runs "
                                   "%2. Update the agent first, then install this bundle.")
                        .arg(m.minAgentVersion.toString(), policy.agentVersion->toString()));
    }
    qCDebug(lcBundle) << "metadata verified:" << m.product << m.version.toString() << "by"
                      << signers->size() << "signer(s)";
    return VerifiedBundle{m, std::move(*signers)};
}

Status BundleVerifier::streamPayload(const BundleReader& reader, int index, PayloadSink& sink,
                                     const Progress& progress) {
    const Manifest& m = reader.manifest();
    if (index < 0 || index >= m.payloads.size()) {
        return fail(QStringLiteral("bundle.invalid-input"),
                    QStringLiteral("The bundle has no payload number %1.").arg(index));
    }
    const PayloadEntry& entry = m.payloads.at(index);
    QFile file(reader.path());
    if (reader.path().isEmpty() || !file.open(QIODevice::ReadOnly) ||
        !file.seek(reader.payloadOffset(index))) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read payload '%1' of bundle %2 (%3); check that "
                                   "the file is still there.")
                        .arg(entry.name, reader.path(), file.errorString()));
    }
    const auto total = static_cast<qint64>(entry.size);
    crypto::Sha256 hasher;
    qint64 done = 0;
    // One buffer for the whole payload: a fresh block each time would be a fresh mapping from
    // the allocator whose every page faults in (a quarter of the install's CPU time).
    QByteArray buffer(std::min(kBlock, std::max<qint64>(total, 1)), Qt::Uninitialized);
    while (done < total) {
        // Never more than the manifest declares, whatever the file holds after it.
        const qint64 got = file.read(buffer.data(), std::min(kBlock, total - done));
        const QByteArrayView block(buffer.constData(), std::max<qint64>(got, 0));
        if (block.isEmpty()) {
            return fail(QStringLiteral("bundle.truncated"),
                        QStringLiteral("Payload '%1' ends after %2 of its %3 bytes: the bundle "
                                       "file was cut short. Fetch the bundle again.")
                            .arg(entry.name)
                            .arg(done)
                            .arg(total));
        }
        hasher.update(block);
        if (auto ok = sink.write(block); !ok) {
            return ok;
        }
        done += block.size();
        if (progress) {
            progress(done, total);
        }
    }
    if (hasher.finish() != entry.sha256) {
        return fail(QStringLiteral("bundle.payload-corrupted"),
                    QStringLiteral("Payload '%1' does not match the SHA-256 its signed manifest "
                                   "declares: it was damaged or swapped. Discard what was "
                                   "written and fetch the bundle again.")
                        .arg(entry.name));
    }
    return {};
}

Result<VerifiedBundle> BundleVerifier::verifyFile(const QString& path, const VerifyPolicy& policy,
                                                  const Progress& progress) {
    auto reader = BundleReader::open(path);
    if (!reader) {
        return std::unexpected(reader.error());
    }
    auto verified = verifyMetadata(*reader, policy);
    if (!verified) {
        return verified;
    }
    const auto total = static_cast<qint64>(reader->manifest().totalPayloadSize());
    qint64 before = 0;
    NullSink sink;
    for (int i = 0; i < reader->manifest().payloads.size(); ++i) {
        const Progress perPayload = [&](qint64 done, qint64 /*payloadTotal*/) {
            if (progress) {
                progress(before + done, total);
            }
        };
        if (auto ok = streamPayload(*reader, i, sink, perPayload); !ok) {
            return std::unexpected(ok.error());
        }
        before += static_cast<qint64>(reader->manifest().payloads.at(i).size);
    }
    return verified;
}

}  // namespace otafleet::bundle
