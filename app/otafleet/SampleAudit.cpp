#include "SampleAudit.h"

#include "store/FleetStore.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace otafleet::app {
namespace {

struct Planned {
    QDateTime time;
    QString actor;
    QString subject;
    QString action;
    QString detail;
};

}  // namespace

Status SampleAudit::seed(store::FleetStore& store) {
    auto count = store.audit().count();
    if (!count)
        return std::unexpected(count.error());
    if (*count > 0)
        return {};
    auto devices = store.devices().all();
    if (!devices)
        return std::unexpected(devices.error());
    auto rollouts = store.rollouts().all();
    if (!rollouts)
        return std::unexpected(rollouts.error());

    // The sample's devices are all stored at once; the lab added them before its first rollout.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QDateTime firstRollout = now;
    for (const store::RolloutRecord& r : *rollouts)
        firstRollout = std::min(firstRollout, r.created);
    const QDateTime benchDay = firstRollout.addDays(-2);
    QList<Planned> planned;
    for (qsizetype i = 0; i < std::min<qsizetype>(devices->size(), kDevicesLogged); ++i) {
        const store::DeviceRecord& d = devices->at(i);
        planned.append(
            {benchDay.addSecs(i * 600), i % 2 ? QStringLiteral("tess") : QStringLiteral("rita"),
             QStringLiteral("device:%1").arg(d.id), QStringLiteral("device.add"), d.uri});
    }
    for (const store::RolloutRecord& r : *rollouts) {
        const QString subject = QStringLiteral("rollout:%1").arg(r.id);
        planned.append({r.created, QStringLiteral("rita"), subject,
                        QStringLiteral("rollout.create"),
                        QStringLiteral("%1 (%2)").arg(r.name, r.bundlePath)});
        if (r.state == u"draft")
            continue;
        if (r.state == u"awaiting_approval") {
            planned.append({r.created.addSecs(300), QStringLiteral("tess"), subject,
                            QStringLiteral("denied:rollout.approve"),
                            QStringLiteral("only an approver may approve a production rollout")});
        }
        const bool bySystem = r.state == u"paused" || r.state == u"completed";
        // The sample stores a rollout's last move at its creation; the engine took a while.
        const QDateTime moved = r.updated > r.created || r.state == u"awaiting_approval"
                                    ? r.updated
                                    : std::min(r.created.addSecs(3 * 3600), now);
        planned.append({moved, bySystem ? QStringLiteral("system") : QStringLiteral("rita"),
                        subject, QStringLiteral("rollout.") + r.state,
                        QJsonDocument::fromJson(r.engineJson)
                            .object()
                            .value(QStringLiteral("pause_reason"))
                            .toString()});
    }
    std::stable_sort(planned.begin(), planned.end(),
                     [](const Planned& a, const Planned& b) { return a.time < b.time; });
    for (const Planned& p : planned) {
        if (auto appended = store.audit().append(p.actor, p.subject, p.action, p.detail, p.time);
            !appended)
            return std::unexpected(appended.error());
    }
    return {};
}

}  // namespace otafleet::app
