#include "crypto/CertificateBuilder.h"

#include "crypto/CertificateSigning.h"
#include "crypto/OpenSsl.h"

#include <openssl/bn.h>
#include <openssl/rand.h>

namespace otafleet::crypto {

namespace {

constexpr int kSerialBits = 127;             // positive, 16 bytes
constexpr long kBackdateSeconds = 5L * 60L;  // tolerate small clock skew between hosts
constexpr long kSecondsPerDay = 24L * 60L * 60L;

Error signFailed(const QString& what) {
    return Error{QStringLiteral("crypto.sign-failed"),
                 QStringLiteral("Issuing the certificate \"%1\" failed (%2).")
                     .arg(what, ossl::takeErrors())};
}

bool addExtension(X509* cert, X509V3_CTX* context, int nid, const char* value) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, context, nid, value);
    if (extension == nullptr) {
        return false;
    }
    const bool added = X509_add_ext(cert, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    return added;
}

bool addSubjectAltNames(X509* cert, const QStringList& names) {
    GENERAL_NAMES* generalNames = sk_GENERAL_NAME_new_null();
    bool ok = generalNames != nullptr;
    for (const QString& name : names) {
        if (!ok) {
            break;
        }
        const QByteArray text = name.trimmed().toUtf8();
        GENERAL_NAME* entry = GENERAL_NAME_new();
        if (ASN1_OCTET_STRING* ip = a2i_IPADDRESS(text.constData())) {
            GENERAL_NAME_set0_value(entry, GEN_IPADD, ip);
        } else {
            ossl::clearErrors();  // not an address: a DNS name
            ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
            ASN1_STRING_set(dns, text.constData(), static_cast<int>(text.size()));
            GENERAL_NAME_set0_value(entry, GEN_DNS, dns);
        }
        ok = sk_GENERAL_NAME_push(generalNames, entry) > 0;
        if (!ok) {
            GENERAL_NAME_free(entry);
        }
    }
    ok = ok &&
         X509_add1_ext_i2d(cert, NID_subject_alt_name, generalNames, 0, X509V3_ADD_DEFAULT) == 1;
    GENERAL_NAMES_free(generalNames);
    return ok;
}

bool setRandomSerial(X509* cert) {
    BIGNUM* number = BN_new();
    bool ok =
        number != nullptr && BN_rand(number, kSerialBits, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1;
    ASN1_INTEGER* serial = ok ? BN_to_ASN1_INTEGER(number, nullptr) : nullptr;
    ok = serial != nullptr && X509_set_serialNumber(cert, serial) == 1;
    ASN1_INTEGER_free(serial);
    BN_free(number);
    return ok;
}

struct ProfileExtensions {
    const char* basicConstraints;
    const char* keyUsage;
    const char* extendedKeyUsage;  // nullptr: none
};

ProfileExtensions extensionsFor(CertificateProfile profile) {
    switch (profile) {
        case CertificateProfile::RootCa:
            return {"critical,CA:TRUE", "critical,keyCertSign,cRLSign", nullptr};
        case CertificateProfile::IntermediateCa:
            return {"critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign", nullptr};
        case CertificateProfile::CodeSigning:
            return {"critical,CA:FALSE", "critical,digitalSignature", "codeSigning"};
        case CertificateProfile::TlsServer:
            return {"critical,CA:FALSE", "critical,digitalSignature", "serverAuth"};
        case CertificateProfile::TlsClient:
            return {"critical,CA:FALSE", "critical,digitalSignature", "clientAuth"};
    }
    return {"critical,CA:FALSE", "critical,digitalSignature", nullptr};
}

}  // namespace

Result<Certificate> issueCertificate(const CertificateSpec& spec, const Certificate& issuer,
                                     EVP_PKEY* issuerKey) {
    return issueCertificate(spec, issuer,
                            *SigningKey::fromEvpKey(issuerKey, QStringLiteral("the issuer key")));
}

Result<Certificate> issueCertificate(const CertificateSpec& spec, const Certificate& issuer,
                                     const SigningKey& issuerKey) {
    ossl::clearErrors();
    ossl::X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1 || !setRandomSerial(cert.get()) ||
        X509_set_pubkey(cert.get(), spec.subjectKey) != 1) {
        return fail(signFailed(spec.commonName));
    }
    X509_NAME* subject = X509_get_subject_name(cert.get());
    const QByteArray commonName = spec.commonName.toUtf8();
    if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(commonName.constData()),
                                   static_cast<int>(commonName.size()), -1, 0) != 1) {
        return fail(signFailed(spec.commonName));
    }
    X509* issuerCert = issuer.isNull() ? cert.get() : issuer.handle();
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuerCert));

    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.validityDays * kSecondsPerDay);
    if (!issuer.isNull() &&
        ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(issuerCert)) > 0) {
        X509_set1_notAfter(cert.get(), X509_get0_notAfter(issuerCert));
    }

    X509V3_CTX context;
    X509V3_set_ctx(&context, issuerCert, cert.get(), nullptr, nullptr, 0);
    const ProfileExtensions extensions = extensionsFor(spec.profile);
    bool ok =
        addExtension(cert.get(), &context, NID_basic_constraints, extensions.basicConstraints) &&
        addExtension(cert.get(), &context, NID_key_usage, extensions.keyUsage) &&
        addExtension(cert.get(), &context, NID_subject_key_identifier, "hash");
    if (ok && !issuer.isNull()) {
        ok = addExtension(cert.get(), &context, NID_authority_key_identifier, "keyid:always");
    }
    if (ok && extensions.extendedKeyUsage != nullptr) {
        ok = addExtension(cert.get(), &context, NID_ext_key_usage, extensions.extendedKeyUsage);
    }
    if (ok && !spec.subjectAltNames.isEmpty()) {
        ok = addSubjectAltNames(cert.get(), spec.subjectAltNames);
    }
    if (!ok) {
        return fail(signFailed(spec.commonName));
    }
    if (auto signedCert = signWithKey(cert, issuerKey); !signedCert) {
        return fail(signedCert.error().withContext(
            QStringLiteral("issuing the certificate \"%1\"").arg(spec.commonName)));
    }
    return Certificate(cert.release());
}

}  // namespace otafleet::crypto
