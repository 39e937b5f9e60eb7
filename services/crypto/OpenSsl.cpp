#include "crypto/OpenSsl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <QStringList>

#include <algorithm>
#include <ctime>

namespace otafleet::crypto::ossl {

QString takeErrors(const QString& fallback) {
    QStringList reasons;
    while (const unsigned long code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        reasons.append(QString::fromLatin1(buffer));
    }
    return reasons.isEmpty() ? fallback : reasons.join(QStringLiteral("; "));
}

void clearErrors() {
    ERR_clear_error();
}

BioPtr readBio(QByteArrayView data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

BioPtr writeBio() {
    return BioPtr(BIO_new(BIO_s_mem()));
}

QByteArray bioContents(BIO* bio) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return length > 0 ? QByteArray(data, length) : QByteArray();
}

QDateTime toDateTime(const ASN1_TIME* time) {
    std::tm parts{};
    if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) {
        return {};
    }
    return QDateTime(QDate(parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday),
                     QTime(parts.tm_hour, parts.tm_min, parts.tm_sec), Qt::UTC);
}

QString toHex(const unsigned char* data, int length) {
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char*>(data), length).toHex());
}

EvpPkeyPtr generateP256() {
    return EvpPkeyPtr(EVP_EC_gen("P-256"));
}

QByteArray privateKeyPem(EVP_PKEY* key) {
    auto bio = writeBio();
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return {};
    }
    return bioContents(bio.get());
}

QByteArray publicKeyDer(EVP_PKEY* key) {
    return toDer(i2d_PUBKEY, key);
}

QByteArray derTlv(int tag, QByteArrayView content) {
    const bool constructed = tag == V_ASN1_SEQUENCE || tag == V_ASN1_SET;
    const auto length = static_cast<int>(content.size());
    const int total = ASN1_object_size(constructed ? 1 : 0, length, tag);
    if (total <= 0) {
        return {};
    }
    QByteArray der(total, Qt::Uninitialized);
    auto* cursor = reinterpret_cast<unsigned char*>(der.data());
    ASN1_put_object(&cursor, constructed ? V_ASN1_CONSTRUCTED : 0, length, tag, V_ASN1_UNIVERSAL);
    std::copy(content.begin(), content.end(), reinterpret_cast<char*>(cursor));
    return der;
}

}  // namespace otafleet::crypto::ossl
