// The fleet's telemetry as the console's charts ask for it: one report (fleet/TelemetryReport.h)
// with the charts of one chosen rollout and the fleet-wide ones. EmbeddedTelemetry computes it
// from the embedded fleet's store; a client of otafleetd will be the second implementation. A
// report is worked out off the calling thread: requestReport() returns at once and ends with one
// reportReady() or reportFailed() carrying the same request number.
#pragma once

#include "common/Error.h"
#include "fleet/TelemetryReport.h"

#include <QObject>

namespace otafleet::fleet {

class TelemetryService : public QObject {
    Q_OBJECT
public:
    ~TelemetryService() override;

    // `rolloutId` 0: the newest rollout that has started (else the newest one). Returns the
    // request's number (increasing).
    virtual quint64 requestReport(qint64 rolloutId) = 0;

Q_SIGNALS:
    void reportReady(quint64 request, const otafleet::fleet::TelemetryReport& report);
    void reportFailed(quint64 request, const otafleet::Error& error);
    // What the charts show may have changed (a rollout moved, a device reported).
    void dataChanged();

protected:
    explicit TelemetryService(QObject* parent = nullptr);
};

}  // namespace otafleet::fleet
