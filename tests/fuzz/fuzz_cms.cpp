// Fuzz target: detached CMS signature verification (DER from a bundle) over fixed content with an
// empty trust store; every input must be refused, none may crash or hang. The seeds are real
// signatures over `content`, so mutations reach the signature checks before trust refuses them:
// OpenSSL's CMS_verify (one-signer, two-signers) and otafleet's own RFC 8419 check of Ed25519
// SignerInfos (ed25519-one-signer, ed25519-and-p256: both paths in one SignedData).

#include "crypto/Cms.h"

#include <QByteArrayView>
#include <QDateTime>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const QByteArray content = QByteArrayLiteral("{\"format_version\":1}");
    const QByteArrayView der(data, static_cast<qsizetype>(size));
    const otafleet::crypto::TrustStore trust;
    const QDateTime now(QDate(2026, 11, 21), QTime(13, 0), Qt::UTC);
    auto signers = otafleet::crypto::verifyDetached(content, der, trust, now, 1);
    if (signers) {
        __builtin_trap();
    }
    return 0;
}
