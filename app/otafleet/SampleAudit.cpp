#include "SampleAudit.h"

#include "store/FleetStore.h"

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

    const QStringList people{QStringLiteral("tess"), QStringLiteral("rita"), QStringLiteral("abe")};
    QList<Planned> planned;
    for (qsizetype i = 0; i < std::min<qsizetype>(devices->size(), kDevicesLogged); ++i) {
        const store::DeviceRecord& d = devices->at(i);
        planned.append({d.added.isValid() ? d.added : QDateTime::currentDateTimeUtc(),
                        people.at(i % 2 ? 0 : 1), QStringLiteral("device:%1").arg(d.id),
                        QStringLiteral("device.add"), d.uri});
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
        planned.append({r.updated, bySystem ? QStringLiteral("system") : QStringLiteral("rita"),
                        subject, QStringLiteral("rollout.") + r.state,
                        r.state == u"paused" ? QStringLiteral("a wave crossed its failure "
                                                              "threshold")
                                             : QString()});
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
