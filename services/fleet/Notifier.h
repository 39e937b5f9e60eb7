// What deserves a technician's attention while they work elsewhere in the console, found from
// the fleet's own signals (no widgets here; ui/NotificationCenter shows them): a rollout paused
// (with the engine's reason), a device reporting tampering (a slot that no longer matches its
// signed manifest, or a signature that did not hold), a new release. Each becomes one
// Notification, kept in a bounded log (newest last) and announced with notified().
#pragma once

#include "rollout/RolloutTypes.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QSet>
#include <QString>

namespace otafleet::fleet {

class FleetService;
class RolloutService;
class EmbeddedAlerts;
class RemoteAlerts;

enum class NotificationKind { RolloutPaused, DeviceTampered, ReleaseArrived };
// "rollout-paused", "device-tampered", "release-arrived".
[[nodiscard]] QString notificationKindName(NotificationKind kind);

struct Notification {
    qint64 id = 0;  // increasing
    QDateTime time;
    NotificationKind kind = NotificationKind::RolloutPaused;
    QString title;    // "Rollout '1.1.0 to all devices' paused"
    QString text;     // the reason, one or two sentences
    QString subject;  // "rollout:3", "device:7", "release:1.1.0"
};

class Notifier : public QObject {
    Q_OBJECT
public:
    static constexpr qsizetype kMaxKept = 500;

    explicit Notifier(QObject* parent = nullptr);
    ~Notifier() override;

    // Watches for rollouts that pause (but not one paused by `self`, the console's own user:
    // they know). Rollouts already paused when watching starts are not announced.
    void watchRollouts(RolloutService& rollouts, const QString& self = {});
    // Watches devices for tampering in what they report (DeviceSnapshot's last error); devices
    // that reported it before watching starts are announced once too: it still holds.
    void watchFleet(FleetService& fleet);
    // A server's anomalies and releases (fleet/RemoteAlerts.h); the embedded store's new
    // releases (fleet/EmbeddedAlerts.h).
    void watchAlerts(RemoteAlerts& alerts);
    void watchAlerts(EmbeddedAlerts& alerts);

    // A new release: version and who made it or where it came from.
    void releaseArrived(const QString& version, const QString& detail);
    // A device reported tampering; `key` identifies the report so that it is announced once.
    void deviceTampered(const QString& device, const QString& detail, const QString& key);

    [[nodiscard]] QList<Notification> notifications() const { return m_log; }

    // The error codes that mean a slot or an update was tampered with.
    [[nodiscard]] static bool isTamperCode(const QString& code);

Q_SIGNALS:
    void notified(const otafleet::fleet::Notification& notification);

private:
    void add(NotificationKind kind, const QString& title, const QString& text,
             const QString& subject);
    void checkRollout(qint64 id);
    void checkDevice(qint64 id);

    RolloutService* m_rollouts = nullptr;
    FleetService* m_fleet = nullptr;
    QString m_self;
    QHash<qint64, rollout::RolloutState> m_rolloutStates;
    QSet<QString> m_tamperSeen;  // keys already announced
    QList<Notification> m_log;
    qint64 m_lastId = 0;
};

}  // namespace otafleet::fleet

Q_DECLARE_METATYPE(otafleet::fleet::Notification)
