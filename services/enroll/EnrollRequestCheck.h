// What a factory station accepts from the line before it lets the device CA sign anything: an
// enrolment request whose every field is bounded, whose CSR proves possession of its key (its
// self-signature), names the requested device id and holds an allowed key type, and whose
// token matches the station's. Kept apart from the gRPC server so the fuzz target and tests
// reach it directly.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace otafleet::enroll {

inline constexpr qsizetype kMaxTextField = 128;
inline constexpr qsizetype kMaxToken = 256;
inline constexpr qsizetype kMaxChainPem = 64 * 1024;
// A whole serialized EnrollRequest: the CSR bound plus the other fields, with room to spare.
inline constexpr int kMaxRequestSize = 80 * 1024;

// The request's fields as received (EnrollRequest in otafleet/enroll/v1/enroll.proto).
struct EnrollFields {
    QByteArray csr;
    QByteArray deviceId;  // raw bytes: checked before they become text
    QByteArray model;
    QByteArray hardware;
    QByteArray token;
};

struct CheckedRequest {
    QString deviceId;
    QString model;
    QString hardware;
    QByteArray csr;           // as received; Pki::issue parses it again when it signs
    QString keyType;          // "p256" / "p384", for the station's line
    QByteArray publicKeyPem;  // SubjectPublicKeyInfo, as Pki::publicKeyPem writes it
};

// Bounds, device id syntax, CSR (signature, subject CN == device id, ECDSA P-256 or P-384).
// Error station.request-invalid or station.csr-rejected, each naming what is wrong.
[[nodiscard]] Result<CheckedRequest> checkEnrollRequest(const EnrollFields& fields);

// Parses a serialized EnrollRequest (protobuf, at most kMaxRequestSize bytes) into its fields.
// Error station.request-invalid. What the fuzz target feeds.
[[nodiscard]] Result<EnrollFields> parseEnrollRequest(QByteArrayView wire);

// Constant-time comparison; an empty expected token never matches.
[[nodiscard]] bool tokenMatches(QByteArrayView expected, QByteArrayView given);

}  // namespace otafleet::enroll
