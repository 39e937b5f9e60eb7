// One connected device, whatever the transport: asks it for its state, pushes an update with
// progress, commits, rolls back, reboots. Every operation is asynchronous and never blocks the
// calling (GUI) thread: a call returns at once (an error only if the link is busy or the
// transport cannot do it) and later ends with exactly one finished() signal. Operations that
// leave the device in a known state emit infoReceived() just before finished().
// Signals are emitted in the thread the link lives in; transports move blocking work elsewhere.
#pragma once

#include "common/Error.h"
#include "link/DeviceSnapshot.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace otafleet::link {

// Capability names a transport declares in its plugin metadata.
namespace capability {
inline constexpr QLatin1StringView kInfo{"info"};
inline constexpr QLatin1StringView kUpdate{"update"};
inline constexpr QLatin1StringView kCommit{"commit"};
inline constexpr QLatin1StringView kRollback{"rollback"};
inline constexpr QLatin1StringView kReboot{"reboot"};
}  // namespace capability

enum class LinkOperation { Refresh, Update, Commit, Rollback, Reboot };
[[nodiscard]] QString operationName(LinkOperation operation);

// The steps of an update as a technician sees them.
enum class UpdatePhase {
    Transferring,
    Verifying,
    Writing,
    Rebooting,
    HealthCheck,
    Committing,
    Done
};
// "Transferring", "Checking health", ...: shown next to progress bars.
[[nodiscard]] QString phaseText(UpdatePhase phase);

struct UpdateOptions {
    bool reboot = true;  // false: stop once the inactive slot is written
    bool commit = true;  // false: stop after the trial boot's health check
};

class DeviceLink : public QObject {
    Q_OBJECT
public:
    ~DeviceLink() override;

    [[nodiscard]] QString uri() const { return m_uri; }
    [[nodiscard]] QStringList capabilities() const { return m_capabilities; }
    [[nodiscard]] bool isBusy() const { return m_running.has_value(); }

    // Errors (returned at once): link.busy, link.unsupported.
    [[nodiscard]] Status refresh();
    [[nodiscard]] Status pushUpdate(const QString& bundlePath, const UpdateOptions& options);
    [[nodiscard]] Status commit();
    [[nodiscard]] Status rollback();
    [[nodiscard]] Status reboot();
    // Asks the running operation to stop; it finishes soon with link.cancelled (or completes if
    // it was past the point of no return).
    void cancel();

    // Telemetry: the owner has stored the device's events up to this sequence number. A
    // transport that carries telemetry acknowledges them at the next refresh (so the device may
    // forget them) and delivers newer ones through eventsReceived() before that refresh ends.
    void setTelemetryStoredThrough(quint64 seq) { m_telemetryStored = seq; }

Q_SIGNALS:
    void infoReceived(const otafleet::link::DeviceSnapshot& snapshot);
    void progress(otafleet::link::UpdatePhase phase, qint64 done, qint64 total);
    // Events as `otafleetctl device events --json` prints them ({"seq", "time", "type", ...}),
    // oldest first, each with a sequence number above telemetryStoredThrough().
    void eventsReceived(const QList<QJsonObject>& events);
    void finished(otafleet::link::LinkOperation operation,
                  const std::optional<otafleet::Error>& error);

protected:
    DeviceLink(QString uri, QStringList capabilities, QObject* parent = nullptr);

    // Transports implement these; each must end by calling complete() exactly once (possibly
    // later, from this object's thread).
    virtual void startRefresh() = 0;
    virtual void startUpdate(const QString& bundlePath, const UpdateOptions& options) = 0;
    virtual void startCommit() = 0;
    virtual void startRollback() = 0;
    virtual void startReboot() = 0;
    virtual void requestCancel() = 0;

    void complete(const Result<DeviceSnapshot>& result);
    void reportProgress(UpdatePhase phase, qint64 done, qint64 total);
    [[nodiscard]] quint64 telemetryStoredThrough() const { return m_telemetryStored; }

private:
    [[nodiscard]] Status begin(LinkOperation operation, QLatin1StringView capabilityName);

    QString m_uri;
    QStringList m_capabilities;
    std::optional<LinkOperation> m_running;
    quint64 m_telemetryStored = 0;
};

}  // namespace otafleet::link

Q_DECLARE_METATYPE(otafleet::link::LinkOperation)
Q_DECLARE_METATYPE(otafleet::link::UpdatePhase)
