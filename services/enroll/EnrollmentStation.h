// The factory station's enrolment server (otafleetctl pki station): EnrollmentService over TLS
// with a server certificate the station issues itself from the PKI's server CA at start (its key
// lives only in memory). For each request it checks the enrolment token and the CSR
// (EnrollRequestCheck), then has the device CA issue the device's identity through Pki::issue,
// so the certificate is listed, revocable and published in CRLs like every other leaf.
//
// Re-enrolment: a device whose earlier certificate is revoked or expired gets a new one under a
// fresh PKI entry name (ID.2, ID.3, ...; the common name stays the device id). While a valid
// certificate exists, the same key gets that certificate again (a retried request) and any other
// key is refused with station.already-enrolled.
#pragma once

#include "common/Error.h"
#include "crypto/Pki.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace otafleet::enroll {

struct StationOptions {
    QString pkiDirectory;
    QString listen;  // HOST:PORT; port 0 picks a free one (see address())
    // Names devices dial the station by (DNS names, IP addresses) for its certificate; empty:
    // the listen host, or for 0.0.0.0 / :: the host name, localhost and 127.0.0.1.
    QStringList subjectAltNames;
    QByteArray token;         // shared or one-time enrolment token; never empty
    crypto::PinProvider pin;  // PKI token PIN (token PKIs only); asked once at start
    int maxEnrolments = 0;    // stop after this many issued certificates; 0: until stop()
    int validityDays = 0;     // 0: the PKI's device default
};

struct EnrolledDevice {
    QString deviceId;
    QString entryName;  // the PKI entry (pki list / revoke --name)
    QString serial;
    QDateTime notAfter;
    QString model;
    QString hardware;
    QString keyType;
    QString peer;
    bool repeated = false;  // a retried request: the existing certificate was sent again
};

struct StationEvents {
    std::function<void(const EnrolledDevice&)> enrolled;
    std::function<void(const QString& peer, const Error&)> refused;
};

class EnrollmentStation {
public:
    ~EnrollmentStation();
    EnrollmentStation(const EnrollmentStation&) = delete;
    EnrollmentStation& operator=(const EnrollmentStation&) = delete;

    // Opens the PKI, issues the station's TLS identity and starts listening. Events are called
    // from gRPC threads, one at a time. Errors: pki.*, crypto.*, station.listen-failed,
    // station.token-missing.
    [[nodiscard]] static Result<std::unique_ptr<EnrollmentStation>> start(
        const StationOptions& options, StationEvents events);

    [[nodiscard]] QString address() const;  // HOST:PORT actually listened on
    // Blocks until maxEnrolments certificates were issued or stop() was called, then shuts down.
    void wait();
    void stop();  // thread-safe

private:
    EnrollmentStation();
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::enroll
