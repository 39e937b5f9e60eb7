// The station's device CA: turns a unit's certificate request into its identity certificate
// through the PKI's device CA (its key in the HSM, reached over PKCS#11, or a key file for
// trials), with the same request checks (EnrollRequestCheck) and the same issuance (Pki::issue:
// listed, revocable, in CRLs) as network enrolment. The PIN is read once and kept in memory only,
// wiped when the certifier goes.
#pragma once

#include "common/Error.h"
#include "crypto/Pki.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace otafleet::station {

struct IssuedIdentity {
    QList<QByteArray> chainDer;  // leaf, then the device CA (the root stays with the verifier)
    QString fingerprint;         // hex SHA-256 of the leaf's DER
    QString pkiEntry;            // the PKI entry name (pki list / revoke --name)
    bool reused = false;         // the unit's key already had a valid certificate: sent again
};

class DeviceCertifier {
public:
    // Opens the PKI and takes the PIN now (from `pin`, which may prompt), so a run never stops
    // for it later. Errors: pki.*, crypto.pin-missing.
    [[nodiscard]] static Result<DeviceCertifier> open(const QString& pkiDirectory,
                                                      const crypto::PinProvider& pin);
    ~DeviceCertifier();
    DeviceCertifier(DeviceCertifier&&) noexcept = default;
    DeviceCertifier& operator=(DeviceCertifier&&) = delete;
    DeviceCertifier(const DeviceCertifier&) = delete;
    DeviceCertifier& operator=(const DeviceCertifier&) = delete;

    // Checks `csrDer` (self-signature, CN == serial number, P-256/P-384) and issues or re-sends
    // the certificate. Errors: station.request-invalid, station.csr-rejected,
    // station.already-enrolled (another key holds a valid certificate for this serial), pki.*,
    // crypto.*.
    [[nodiscard]] Result<IssuedIdentity> certify(const QString& serialNumber,
                                                 const QByteArray& csrDer) const;

    [[nodiscard]] const crypto::Pki& pki() const { return *m_pki; }

private:
    DeviceCertifier() = default;
    std::optional<crypto::Pki> m_pki;
    QByteArray m_pin;  // empty for key-file PKIs
};

}  // namespace otafleet::station
