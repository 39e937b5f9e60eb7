// Everything one station run needs, set up from plain settings the same way for the command
// line and the console: the image read and checked against the release key (a PEM file, or the
// PKI's release signer) before any unit gets it, the device CA when identities are provisioned
// (PIN taken once, up front), the traceability database, and the Station itself.
#pragma once

#include "common/Error.h"
#include "crypto/Pki.h"
#include "station/DeviceCertifier.h"
#include "station/Station.h"
#include "station/TraceStore.h"

#include <memory>
#include <optional>

namespace otafleet::station {

struct StationRequest {
    QString portPattern;
    QString imagePath;       // MCUboot image for MCU units
    QString bundlePath;      // .otab for units running otafleet-agent; at least one of the two
    QString releaseKeyPath;  // PEM public key; empty: the PKI's release signer
    QString pkiDirectory;
    bool provisionIdentity = false;
    crypto::PinProvider pin;  // for a PKI whose keys are on a token
    QString operatorName;
    QString stationId;
    QString databasePath;
    int maxUnits = 0;
    int baud = 115200;
    qint64 unitTimeoutMs = 0;  // 0: no per-unit limit
};

class StationSession {
public:
    // Errors: station.request-invalid (what is missing), io.*, pki.*, mcuboot.* (the image does
    // not verify: no unit is flashed), bundle.* and crypto.* (the bundle does not verify against
    // the PKI's release trust), station.db-failed.
    [[nodiscard]] static Result<std::unique_ptr<StationSession>> open(
        const StationRequest& request);
    ~StationSession();

    [[nodiscard]] Station& station() { return *m_station; }
    [[nodiscard]] const TraceStore& store() const { return *m_store; }
    [[nodiscard]] const UnitJob& job() const { return m_station->options().job; }

private:
    StationSession() = default;
    std::optional<DeviceCertifier> m_certifier;
    std::optional<TraceStore> m_store;
    std::unique_ptr<Station> m_station;  // before the certifier and store it uses go
};

}  // namespace otafleet::station
