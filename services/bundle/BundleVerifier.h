// The one way a bundle is verified, used by `bundle verify`, the console and the agent. First the
// metadata (signature, trust chain, expiry, security version, hardware, agent version), before
// anything is trusted; then each payload is streamed through a sink while it is hashed, reading
// no more bytes than the manifest declares.
#pragma once

#include "bundle/Bundle.h"
#include "bundle/Manifest.h"
#include "common/Error.h"
#include "crypto/Cms.h"

#include <QDateTime>
#include <QString>

#include <functional>
#include <optional>

namespace otafleet::bundle {

struct VerifyPolicy {
    crypto::TrustStore trust;
    QString hardware;                // empty: any hardware (a workstation check)
    quint64 minSecurityVersion = 0;  // refuse below this (rollback)
    int threshold = 1;               // distinct trusted signers required
    QDateTime now = QDateTime::currentDateTimeUtc();
    std::optional<SemVer> agentVersion;  // refuse if the manifest needs a newer agent
};

struct VerifiedBundle {
    Manifest manifest;
    QList<crypto::VerifiedSigner> signers;
};

// Receives verified-in-progress payload bytes. A sink must not treat data as trusted before
// streamPayload returns success (the hash is known only at the end).
class PayloadSink {
public:
    virtual ~PayloadSink() = default;
    [[nodiscard]] virtual Status write(QByteArrayView data) = 0;
};

using Progress = std::function<void(qint64 done, qint64 total)>;

class BundleVerifier {
public:
    // Errors: bundle.unsigned, crypto.* (signature, chain, signer usage/validity/revocation,
    // threshold), bundle.expired (freeze), bundle.rollback, bundle.wrong-hardware,
    // bundle.agent-too-old.
    [[nodiscard]] static Result<VerifiedBundle> verifyMetadata(const BundleReader& reader,
                                                               const VerifyPolicy& policy);

    // Streams payload `index` of a bundle whose metadata verified; error
    // bundle.payload-corrupted on a hash mismatch, bundle.truncated if the file shrank.
    [[nodiscard]] static Status streamPayload(const BundleReader& reader, int index,
                                              PayloadSink& sink, const Progress& progress = {});

    // Metadata, then every payload hashed without writing anywhere.
    [[nodiscard]] static Result<VerifiedBundle> verifyFile(const QString& path,
                                                           const VerifyPolicy& policy,
                                                           const Progress& progress = {});
};

}  // namespace otafleet::bundle
