#include "fleet/Notifier.h"

#include "fleet/EmbeddedAlerts.h"
#include "fleet/FleetService.h"
#include "fleet/RemoteAlerts.h"
#include "fleet/RolloutService.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcNotifier, "otafleet.fleet.notifier")

namespace otafleet::fleet {

QString notificationKindName(NotificationKind kind) {
    switch (kind) {
        case NotificationKind::RolloutPaused:
            return QStringLiteral("rollout-paused");
        case NotificationKind::DeviceTampered:
            return QStringLiteral("device-tampered");
        case NotificationKind::ReleaseArrived:
            return QStringLiteral("release-arrived");
    }
    return {};
}

Notifier::Notifier(QObject* parent) : QObject(parent) {
    qRegisterMetaType<Notification>();
}

Notifier::~Notifier() = default;

bool Notifier::isTamperCode(const QString& code) {
    return code == u"agent.tamper-detected" || code == u"bundle.untrusted-signer" ||
           code.startsWith(u"crypto.signature-");
}

void Notifier::watchRollouts(RolloutService& rollouts, const QString& self) {
    m_rollouts = &rollouts;
    m_self = self;
    for (const RolloutSummary& r : rollouts.rollouts())
        m_rolloutStates.insert(r.id, r.status.state);
    connect(&rollouts, &RolloutService::rolloutAdded, this, &Notifier::checkRollout);
    connect(&rollouts, &RolloutService::rolloutChanged, this, &Notifier::checkRollout);
}

void Notifier::checkRollout(qint64 id) {
    const auto r = m_rollouts->rollout(id);
    if (!r)
        return;
    const rollout::RolloutState state = r->status.state;
    const auto previous = m_rolloutStates.find(id);
    const bool wasPaused =
        previous != m_rolloutStates.end() && *previous == rollout::RolloutState::Paused;
    m_rolloutStates.insert(id, state);
    if (state != rollout::RolloutState::Paused || wasPaused)
        return;
    const QString reason = r->status.pauseReason;
    const QString self = m_self.isEmpty() ? m_rollouts->signedInUser() : m_self;
    if (!self.isEmpty() && reason == QStringLiteral("Paused by %1.").arg(self))
        return;
    add(NotificationKind::RolloutPaused, tr("Rollout '%1' paused").arg(r->name),
        reason.isEmpty() ? tr("The rollout paused; open it in the Rollouts tab.") : reason,
        QStringLiteral("rollout:%1").arg(id));
}

void Notifier::watchFleet(FleetService& fleet) {
    m_fleet = &fleet;
    connect(&fleet, &FleetService::deviceAdded, this, &Notifier::checkDevice);
    connect(&fleet, &FleetService::deviceChanged, this, &Notifier::checkDevice);
    connect(&fleet, &FleetService::fleetReset, this, [this] {
        for (const FleetDevice& d : m_fleet->devices())
            checkDevice(d.id);
    });
    for (const FleetDevice& d : fleet.devices())
        checkDevice(d.id);
}

void Notifier::checkDevice(qint64 id) {
    const auto d = m_fleet->device(id);
    if (!d || !d->snapshot)
        return;
    const link::DeviceSnapshot& s = *d->snapshot;
    if (!isTamperCode(s.lastErrorCode))
        return;
    deviceTampered(d->displayName(),
                   QStringLiteral("%1 [%2]").arg(s.lastErrorMessage, s.lastErrorCode),
                   QStringLiteral("%1\n%2\n%3").arg(d->uri, s.lastErrorCode, s.lastErrorMessage));
}

void Notifier::deviceTampered(const QString& device, const QString& detail, const QString& key) {
    if (m_tamperSeen.contains(key))
        return;
    m_tamperSeen.insert(key);
    add(NotificationKind::DeviceTampered, tr("Device %1 reports tampering").arg(device),
        tr("%1 Check the device before it takes another update.").arg(detail),
        QStringLiteral("device:%1").arg(device));
}

void Notifier::releaseArrived(const QString& version, const QString& detail) {
    add(NotificationKind::ReleaseArrived, tr("New release %1").arg(version), detail,
        QStringLiteral("release:%1").arg(version));
}

void Notifier::watchAlerts(RemoteAlerts& alerts) {
    connect(&alerts, &RemoteAlerts::tamperReported, this, &Notifier::deviceTampered);
    connect(&alerts, &RemoteAlerts::releaseAdded, this, &Notifier::releaseArrived);
}

void Notifier::watchAlerts(EmbeddedAlerts& alerts) {
    connect(&alerts, &EmbeddedAlerts::releaseAdded, this, &Notifier::releaseArrived);
}

void Notifier::add(NotificationKind kind, const QString& title, const QString& text,
                   const QString& subject) {
    Notification n{++m_lastId, QDateTime::currentDateTimeUtc(), kind, title, text, subject};
    qCInfo(lcNotifier).noquote() << notificationKindName(kind) << title << "-" << text;
    m_log.append(n);
    if (m_log.size() > kMaxKept)
        m_log.removeFirst();
    Q_EMIT notified(n);
}

}  // namespace otafleet::fleet
