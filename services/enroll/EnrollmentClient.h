// The device's side of enrolment: one Enroll call to a station over TLS, the station's server
// certificate checked against the device's trust root (and the station host name), returning the
// certificate chain it issued. The caller checks the chain (crypto::verifyDeviceIdentity) before
// storing it: a station is trusted to sign, not to be right.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

#include <chrono>

namespace otafleet::enroll {

struct EnrollCall {
    QString station;     // HOST:PORT
    QByteArray rootPem;  // trust root the station's certificate must chain to
    QByteArray csr;      // DER or PEM
    QString deviceId;
    QString model;
    QString hardware;
    QByteArray token;
    std::chrono::seconds timeout{30};
};

// Errors: the station's own (station.token-rejected, station.csr-rejected,
// station.already-enrolled, ...), enroll.unreachable, enroll.station-untrusted (TLS failed: the
// station's certificate is not from this fleet or does not name the address), enroll.timeout,
// enroll.protocol (an oversized or unexpected answer).
[[nodiscard]] Result<QByteArray> requestCertificate(const EnrollCall& call);

}  // namespace otafleet::enroll
