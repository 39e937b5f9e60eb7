// The simulated device's side of otafleet's SMP provisioning group (smp/SmpProvisioning.h): its
// serial number, an ECDSA P-256 identity key it makes on the first "csr" request and keeps in
// DIR/identity.key (mode 0600, never sent anywhere), a PKCS#10 request for that key with the
// serial number as common name, and the certificate chain the station writes back, stored in
// DIR/identity.pem once its leaf is found to certify the device's own key.
#pragma once

#include "mcusim/SimSlots.h"

#include <QCborMap>
#include <QString>

namespace otafleet::mcusim {

class SimIdentity {
public:
    SimIdentity(QString dir, QString serialNumber);

    [[nodiscard]] DeviceResult<QCborMap> identity() const;
    [[nodiscard]] DeviceResult<QCborMap> csr();
    [[nodiscard]] DeviceResult<QCborMap> storeChain(const QCborMap& request);

    [[nodiscard]] QString keyPath() const;
    [[nodiscard]] QString chainPath() const;

private:
    QString m_dir;
    QString m_serialNumber;
};

}  // namespace otafleet::mcusim
