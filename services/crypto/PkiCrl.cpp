// Pki::makeCrls: X.509 v2 CRLs for `pki crl`, one per CA that has revoked leaves, each signed
// by that CA's key (in the token or a file). Verifiers (verifyDetached, TLS peers) take the
// concatenated PEM.
#include "crypto/Pki.h"

#include "crypto/CertificateSigning.h"
#include "crypto/OpenSsl.h"
#include "crypto/PkiLayout.h"
#include "crypto/PkiRegistry.h"

#include <openssl/bn.h>
#include <openssl/pem.h>

#include <QDir>
#include <QJsonObject>
#include <QMap>

namespace otafleet::crypto {

namespace {

constexpr int kMaxCrlDays = 3650;
// Like certificates, a CRL starts a little in the past: a verifier whose clock is slightly
// behind would otherwise find it "not yet valid" and refuse every signer.
constexpr long kBackdateSeconds = 5L * 60L;

Error crlFailed(const QString& ca) {
    return Error{QStringLiteral("crypto.sign-failed"),
                 QStringLiteral("Building the revocation list of %1 failed (%2).")
                     .arg(ca, ossl::takeErrors())};
}

int reasonCode(const QString& name) {
    const auto reason = parseRevocationReason(name);
    if (!reason) {
        return CRL_REASON_UNSPECIFIED;
    }
    switch (*reason) {
        case RevocationReason::KeyCompromise:
            return CRL_REASON_KEY_COMPROMISE;
        case RevocationReason::Superseded:
            return CRL_REASON_SUPERSEDED;
        case RevocationReason::CessationOfOperation:
            return CRL_REASON_CESSATION_OF_OPERATION;
    }
    return CRL_REASON_UNSPECIFIED;
}

bool addRevoked(X509_CRL* crl, const IssuedCertificate& entry) {
    BIGNUM* number = nullptr;
    const QByteArray hex = entry.serial.toLatin1();
    if (BN_hex2bn(&number, hex.constData()) == 0) {
        return false;
    }
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(number, nullptr);
    BN_free(number);
    X509_REVOKED* revoked = X509_REVOKED_new();
    ASN1_TIME* date =
        ASN1_TIME_set(nullptr, static_cast<time_t>(entry.revokedAt.toSecsSinceEpoch()));
    ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
    bool ok = serial != nullptr && revoked != nullptr && date != nullptr && reason != nullptr &&
              X509_REVOKED_set_serialNumber(revoked, serial) == 1 &&
              X509_REVOKED_set_revocationDate(revoked, date) == 1 &&
              ASN1_ENUMERATED_set(reason, reasonCode(entry.revocationReason)) == 1 &&
              X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, reason, 0, 0) == 1;
    ok = ok && X509_CRL_add0_revoked(crl, revoked) == 1;
    if (!ok) {
        X509_REVOKED_free(revoked);
    }
    ASN1_ENUMERATED_free(reason);
    ASN1_TIME_free(date);
    ASN1_INTEGER_free(serial);
    return ok;
}

// The CRL number must grow with every CRL a CA issues; seconds since the epoch do without a
// counter file.
bool addCrlNumber(X509_CRL* crl, const QDateTime& now) {
    ASN1_INTEGER* number = ASN1_INTEGER_new();
    const bool ok = number != nullptr &&
                    ASN1_INTEGER_set_int64(number, now.toSecsSinceEpoch()) == 1 &&
                    X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1;
    ASN1_INTEGER_free(number);
    return ok;
}

bool addAuthorityKeyId(X509_CRL* crl, X509* issuer) {
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, nullptr, nullptr, crl, 0);
    X509_EXTENSION* extension =
        X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always");
    const bool ok = extension != nullptr && X509_CRL_add_ext(crl, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    return ok;
}

Result<QByteArray> makeCrl(const Certificate& ca, const SigningKey& caKey,
                           const QList<IssuedCertificate>& revoked, int days) {
    ossl::clearErrors();
    ossl::X509CrlPtr crl(X509_CRL_new());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    using Asn1TimePtr = std::unique_ptr<ASN1_TIME, ossl::Deleter<ASN1_TIME_free>>;
    const Asn1TimePtr lastUpdate(
        ASN1_TIME_set(nullptr, static_cast<time_t>(now.toSecsSinceEpoch() - kBackdateSeconds)));
    const Asn1TimePtr nextUpdate(X509_time_adj_ex(nullptr, days, 0, nullptr));
    bool ok = crl && lastUpdate && nextUpdate && X509_CRL_set_version(crl.get(), 1) == 1 &&
              X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.handle())) == 1 &&
              X509_CRL_set1_lastUpdate(crl.get(), lastUpdate.get()) == 1 &&
              X509_CRL_set1_nextUpdate(crl.get(), nextUpdate.get()) == 1;
    for (const IssuedCertificate& entry : revoked) {
        ok = ok && addRevoked(crl.get(), entry);
    }
    ok = ok && addCrlNumber(crl.get(), now) && addAuthorityKeyId(crl.get(), ca.handle()) &&
         X509_CRL_sort(crl.get()) == 1;
    if (!ok) {
        return fail(crlFailed(ca.subject()));
    }
    if (auto signedCrl = signWithKey(crl, caKey); !signedCrl) {
        return fail(signedCrl.error().withContext(
            QStringLiteral("signing the revocation list of %1").arg(ca.subject())));
    }
    auto bio = ossl::writeBio();
    if (PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
        return fail(crlFailed(ca.subject()));
    }
    return ossl::bioContents(bio.get());
}

}  // namespace

Result<CrlSet> Pki::makeCrls(int days, const PinProvider& pinProvider) const {
    if (days < 1 || days > kMaxCrlDays) {
        return fail(QStringLiteral("pki.crl-days"),
                    QStringLiteral("A revocation list must be valid for 1 to %1 days, not %2.")
                        .arg(kMaxCrlDays)
                        .arg(days));
    }
    auto json = registry::read(m_directory);
    if (!json) {
        return fail(json.error());
    }
    auto list = registry::entries(m_directory, *json);
    if (!list) {
        return fail(list.error());
    }
    // By CA key name; QMap keeps the output order stable.
    QMap<QString, QList<IssuedCertificate>> byCa;
    for (const IssuedCertificate& entry : *list) {
        if (entry.revoked) {
            byCa[registry::caKeyName(entry.kind)].append(entry);
        }
    }
    if (byCa.isEmpty()) {
        // Nothing revoked: still publish the release CA's (empty) list, so devices that want a
        // current CRL get one.
        byCa.insert(layout::kReleaseCaKey, {});
    }
    const PinProvider pin = registry::askOnce(pinProvider);
    const QJsonObject keys = json->value(layout::kJsonKeys).toObject();
    CrlSet result;
    for (auto it = byCa.cbegin(); it != byCa.cend(); ++it) {
        auto caChain = Certificate::loadPemFile(
            QDir(m_directory)
                .absoluteFilePath(QStringLiteral("%1/%2.pem").arg(layout::kCaDir, it.key())));
        if (!caChain) {
            return fail(caChain.error());
        }
        auto caKey =
            SigningKey::open(registry::resolve(m_directory, keys.value(it.key()).toString()),
                             KeyOpenOptions{m_pkcs11Module, pin});
        if (!caKey) {
            return fail(
                caKey.error().withContext(QStringLiteral("opening the %1 key").arg(it.key())));
        }
        auto pem = makeCrl(caChain->constFirst(), **caKey, it.value(), days);
        if (!pem) {
            return fail(pem.error());
        }
        result.pem += *pem;
        result.issuers.append(caChain->constFirst().subject());
        result.revokedCount += static_cast<int>(it.value().size());
    }
    return result;
}

}  // namespace otafleet::crypto
