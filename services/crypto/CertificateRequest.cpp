#include "crypto/CertificateRequest.h"

#include "crypto/Pki.h"

#include <openssl/pem.h>

namespace otafleet::crypto {

namespace {

using X509ReqPtr = std::unique_ptr<X509_REQ, ossl::Deleter<X509_REQ_free>>;

Error csrInvalid(const QString& why) {
    return Error{QStringLiteral("pki.csr-invalid"),
                 QStringLiteral("The certificate signing request cannot be used (%1). Create a "
                                "fresh PKCS#10 request (PEM or DER) with the device's or "
                                "server's own key.")
                     .arg(why)};
}

X509ReqPtr parseDer(QByteArrayView data) {
    const auto* begin = reinterpret_cast<const unsigned char*>(data.data());
    const unsigned char* cursor = begin;
    X509ReqPtr request(d2i_X509_REQ(nullptr, &cursor, data.size()));
    if (request && cursor != begin + data.size()) {
        return nullptr;  // trailing bytes: not the file we were meant to get
    }
    return request;
}

}  // namespace

Result<CertificateRequest> CertificateRequest::parse(QByteArrayView data) {
    ossl::clearErrors();
    if (data.isEmpty()) {
        return fail(csrInvalid(QStringLiteral("the file is empty")));
    }
    if (data.size() > kMaxCsrSize) {
        return fail(csrInvalid(QStringLiteral("%1 bytes, more than the %2 allowed")
                                   .arg(data.size())
                                   .arg(kMaxCsrSize)));
    }
    X509ReqPtr request;
    if (QByteArrayView(data).contains(QByteArrayView("-----BEGIN"))) {
        auto bio = ossl::readBio(data);
        request.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    } else {
        request = parseDer(data);
    }
    if (!request) {
        return fail(csrInvalid(ossl::takeErrors(QStringLiteral("not a PKCS#10 request"))));
    }
    EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
    if (key == nullptr) {
        return fail(csrInvalid(ossl::takeErrors(QStringLiteral("no usable public key"))));
    }
    if (X509_REQ_verify(request.get(), key) != 1) {
        return fail(csrInvalid(
            ossl::takeErrors(QStringLiteral("its self-signature does not match its public key"))));
    }
    const int bits = EVP_PKEY_get_bits(key);
    const int type = EVP_PKEY_get_base_id(key);
    if (!((type == EVP_PKEY_EC && bits >= 256) || (type == EVP_PKEY_RSA && bits >= 2048) ||
          type == EVP_PKEY_ED25519)) {
        return fail(
            csrInvalid(QStringLiteral("the key is too weak; use ECDSA P-256 or better, "
                                      "RSA 2048 or better, or Ed25519")));
    }
    CertificateRequest result;
    EVP_PKEY_up_ref(key);
    result.publicKey.reset(key);
    auto bio = ossl::writeBio();
    X509_NAME_print_ex(bio.get(), X509_REQ_get_subject_name(request.get()), 0, XN_FLAG_RFC2253);
    result.subject = QString::fromUtf8(ossl::bioContents(bio.get()));
    const X509_NAME* name = X509_REQ_get_subject_name(request.get());
    const int cn = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char* utf8 = nullptr;
    const int length = cn < 0 ? -1
                              : ASN1_STRING_to_UTF8(
                                    &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, cn)));
    if (length >= 0) {
        result.commonName = QString::fromUtf8(reinterpret_cast<const char*>(utf8), length);
    }
    OPENSSL_free(utf8);
    return result;
}

}  // namespace otafleet::crypto
