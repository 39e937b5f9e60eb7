#include "enroll/EnrollRequestCheck.h"

#include "crypto/CertificateRequest.h"
#include "crypto/DeviceIdentity.h"
#include "crypto/KeyType.h"
#include "crypto/Pki.h"

#include "otafleet/enroll/v1/enroll.pb.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include <algorithm>

namespace otafleet::enroll {

namespace {

Error invalid(const QString& why) {
    return Error{QStringLiteral("station.request-invalid"),
                 QStringLiteral("The enrolment request is malformed (%1); use otafleet-agent "
                                "enroll of the same release as the station.")
                     .arg(why)};
}

Error csrRejected(const QString& why) {
    return Error{QStringLiteral("station.csr-rejected"),
                 QStringLiteral("The station refused the certificate request: %1.").arg(why)};
}

// Printable ASCII only: these values end up in logs and in the station's one-line reports.
bool isPlainText(const QByteArray& value) {
    return std::all_of(value.begin(), value.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

Result<CheckedRequest> checkEnrollRequest(const EnrollFields& fields) {
    if (fields.deviceId.size() > crypto::kMaxDeviceIdLength ||
        !crypto::isValidDeviceId(QString::fromLatin1(fields.deviceId)) ||
        !isPlainText(fields.deviceId)) {
        return fail(
            invalid(QStringLiteral("the device id must be 1 to 64 letters, digits, '.', "
                                   "'_' or '-', starting with a letter or digit")));
    }
    for (const auto& [value, name] :
         {std::pair{&fields.model, "model"}, std::pair{&fields.hardware, "hardware"}}) {
        if (value->size() > kMaxTextField || !isPlainText(*value)) {
            return fail(invalid(QStringLiteral("the %1 must be at most %2 printable characters")
                                    .arg(QLatin1String(name))
                                    .arg(kMaxTextField)));
        }
    }
    if (fields.token.isEmpty() || fields.token.size() > kMaxToken) {
        return fail(invalid(QStringLiteral("the token must be 1 to %1 bytes").arg(kMaxToken)));
    }
    if (fields.csr.size() > crypto::kMaxCsrSize) {
        return fail(
            invalid(QStringLiteral("the CSR is larger than %1 bytes").arg(crypto::kMaxCsrSize)));
    }
    CheckedRequest checked;
    checked.deviceId = QString::fromLatin1(fields.deviceId);
    checked.model = QString::fromLatin1(fields.model);
    checked.hardware = QString::fromLatin1(fields.hardware);
    checked.csr = fields.csr;
    // Proof of possession: parse() checks the request's self-signature with its own key.
    auto request = crypto::CertificateRequest::parse(fields.csr);
    if (!request) {
        return fail(csrRejected(request.error().message));
    }
    if (request->commonName != checked.deviceId) {
        return fail(csrRejected(QStringLiteral("its subject (%1) does not name the device id "
                                               "\"%2\" it asks a certificate for")
                                    .arg(request->subject, checked.deviceId)));
    }
    const auto type = crypto::keyTypeOf(request->publicKey.get());
    if (type != crypto::KeyType::P256 && type != crypto::KeyType::P384) {
        return fail(csrRejected(QStringLiteral("device keys must be ECDSA P-256 or P-384")));
    }
    checked.keyType = crypto::keyTypeName(*type);
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio != nullptr && PEM_write_bio_PUBKEY(bio, request->publicKey.get()) == 1) {
        char* data = nullptr;
        const long length = BIO_get_mem_data(bio, &data);
        checked.publicKeyPem = QByteArray(data, static_cast<qsizetype>(length));
    }
    BIO_free(bio);
    return checked;
}

Result<EnrollFields> parseEnrollRequest(QByteArrayView wire) {
    if (wire.size() > kMaxRequestSize) {
        return fail(invalid(
            QStringLiteral("%1 bytes, more than %2").arg(wire.size()).arg(kMaxRequestSize)));
    }
    otafleet::enroll::v1::EnrollRequest message;
    if (!message.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
        return fail(invalid(QStringLiteral("not an EnrollRequest")));
    }
    const auto bytes = [](const std::string& s) {
        return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
    };
    return EnrollFields{bytes(message.csr()), bytes(message.device_id()), bytes(message.model()),
                        bytes(message.hardware()), bytes(message.token())};
}

bool tokenMatches(QByteArrayView expected, QByteArrayView given) {
    if (expected.isEmpty() || expected.size() != given.size()) {
        return false;
    }
    return CRYPTO_memcmp(expected.data(), given.data(), static_cast<size_t>(expected.size())) == 0;
}

}  // namespace otafleet::enroll
