// A factory station: watches the ports matching a pattern (a glob over device paths, e.g.
// "/dev/ttyACM*" or "/dev/serial/by-id/usb-Acme*"; symlinks count by what they point to, so two
// names of one port make one unit), starts a StationUnit for each unit that appears, runs them
// side by side, and records each one in the traceability database the moment it ends. Ports are
// polled, so units plugged in while the station runs are noticed; a port whose unit has ended
// must go away (the unit is unplugged) before a new unit on it is started.
#pragma once

#include "common/Error.h"
#include "station/StationUnit.h"
#include "station/TraceStore.h"

#include <QHash>
#include <QObject>
#include <QStringList>
#include <QTimer>

namespace otafleet::station {

struct StationOptions {
    QString portPattern;
    int maxUnits = 0;  // stop after this many units ended; 0: until stop()
    int pollMs = 250;
    UnitJob job;
};

class Station : public QObject {
    Q_OBJECT

public:
    // `store` may be null (no database); it must outlive the station.
    Station(StationOptions options, TraceStore* store, QObject* parent = nullptr);
    ~Station() override;

    void start();
    // Ends every running unit as failed with `why`, records them, then emits finished().
    void stop(const Error& why);

    // The existing files and devices `pattern` matches, by the path they resolve to, sorted.
    [[nodiscard]] static QStringList matchPorts(const QString& pattern);

    [[nodiscard]] const QList<UnitRecord>& records() const { return m_records; }
    [[nodiscard]] int running() const { return int(m_units.size()); }
    [[nodiscard]] const StationOptions& options() const { return m_options; }

Q_SIGNALS:
    void unitStarted(const QString& port);
    void unitStage(const QString& port, const QString& serialNumber, const QString& stage);
    void unitProgress(const QString& port, qint64 done, qint64 total);
    void unitFinished(const otafleet::station::UnitRecord& record);
    // A record could not be written to the database (it is still in records()).
    void storeFailed(const otafleet::Error& error);
    void finished();

private:
    void poll();
    void onUnitFinished(StationUnit* unit, const UnitRecord& record);
    void finishIfDone();

    StationOptions m_options;
    TraceStore* m_store;
    QTimer m_poll;
    QHash<QString, StationUnit*> m_units;  // running, by resolved port
    QSet<QString> m_done;                  // ended; waiting for the port to go away
    QList<UnitRecord> m_records;
    int m_started = 0;
    bool m_stopping = false;
    bool m_finishedEmitted = false;
};

}  // namespace otafleet::station
