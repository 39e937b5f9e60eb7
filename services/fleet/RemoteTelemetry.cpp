#include "fleet/RemoteTelemetry.h"

#include "consoleclient/ConsoleClient.h"
#include "fleet/RemoteCaller.h"
#include "fleet/RemoteRollouts.h"
#include "fleet/RolloutService.h"

#include <QPointer>

#include <mutex>

namespace otafleet::fleet {
namespace {

namespace cpb = client::cpb;

constexpr quint32 kPageSize = 1000;
constexpr int kMaxRollouts = 10000;

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

Histogram histogramOf(const cpb::Histogram& h) {
    Histogram out;
    out.lower = h.lower();
    out.binWidth = h.bin_width();
    out.samples = qint64(h.samples());
    for (const quint64 c : h.counts())
        out.counts.append(qint64(c));
    return out;
}

bool started(const QString& state) {
    return state != u"draft" && state != u"awaiting_approval";
}

}  // namespace

// Owns the worker thread's client; everything it does runs in that thread.
class RemoteTelemetry::Worker : public QObject {
public:
    Worker(client::ConsoleSettings settings, std::chrono::seconds deadline)
        : m_server(std::move(settings), deadline) {}

    void abort() { m_server.abort(); }

    void serve(quint64 request, qint64 rolloutId, const std::atomic<quint64>& latest,
               const QPointer<RemoteTelemetry>& owner) {
        if (request < latest.load())
            return;  // a newer request follows; it answers for this one
        Result<TelemetryReport> report = build(rolloutId);
        if (!report)
            m_server.disconnect();  // a new connection next time: the server may have restarted
        QMetaObject::invokeMethod(
            owner.data(),
            [owner, request, report = std::move(report)] {
                if (!owner)
                    return;
                if (report)
                    Q_EMIT owner->reportReady(request, *report);
                else
                    Q_EMIT owner->reportFailed(request, report.error());
            },
            Qt::QueuedConnection);
    }

private:
    Result<TelemetryReport> build(qint64 rolloutId) {
        TelemetryReport report;
        report.generated = QDateTime::currentDateTimeUtc();

        // The rollouts to choose from; without a choice, the newest that started.
        qint64 newest = 0;
        qint64 newestStarted = 0;
        for (quint32 page = 0;; ++page) {
            cpb::ListRolloutsRequest r;
            r.set_page(page);
            r.set_page_size(kPageSize);
            auto reply = m_server.call(&cpb::ConsoleService::Stub::ListRollouts, r);
            if (!reply)
                return fail(reply.error());
            for (const cpb::Rollout& listed : reply->rollouts()) {
                const QString state = text(listed.state());
                report.rollouts.append(
                    {listed.id(),
                     remoteRolloutName(text(listed.release_version()), text(listed.target())),
                     state});
                newest = listed.id();
                if (started(state))
                    newestStarted = listed.id();
            }
            if (reply->rollouts_size() < int(kPageSize) || report.rollouts.size() >= kMaxRollouts ||
                report.rollouts.size() >= qsizetype(reply->total()))
                break;
        }
        if (rolloutId == 0)
            rolloutId = newestStarted ? newestStarted : newest;

        if (rolloutId > 0) {
            cpb::RolloutRequest get;
            get.set_id(rolloutId);
            auto chosen = m_server.call(&cpb::ConsoleService::Stub::GetRollout, get);
            if (!chosen && chosen.error().code != u"server.unknown-rollout")
                return fail(chosen.error());
            if (chosen) {
                RolloutTelemetry t;
                t.id = chosen->id();
                t.name = remoteRolloutName(text(chosen->release_version()), text(chosen->target()));
                t.state = text(chosen->state());
                t.total = qint64(chosen->total());
                if (auto plan = rollout::RolloutPlan::fromJsonBytes(
                        QByteArray::fromStdString(chosen->plan_json()))) {
                    t.successThreshold = plan->successThreshold;
                    t.failureThreshold = plan->failureThreshold;
                    t.minExecuted = plan->minExecuted;
                }
                auto status = rollout::RolloutStatus::fromJsonBytes(
                    QByteArray::fromStdString(chosen->status_json()));
                if (!status)
                    return fail(status.error());
                for (const rollout::WaveStatus& w : status->waves) {
                    if (w.phase == rollout::WaveStatus::Phase::Waiting)
                        continue;
                    t.waves.append({w.number, w.size, w.succeeded, w.failed, w.skipped,
                                    w.inProgress + w.pending});
                }
                report.rollout = std::move(t);
            } else {
                rolloutId = 0;
            }
        }

        const qint64 until = report.generated.toMSecsSinceEpoch();
        cpb::TelemetryReportRequest r;
        r.set_until_unix_ms(until);
        r.set_since_unix_ms(until - qint64(kRangeDays) * 24 * 3600 * 1000);
        r.set_charts(true);
        r.set_rollout_id(rolloutId);
        auto charts = m_server.call(&cpb::ConsoleService::Stub::TelemetryReport, r);
        if (!charts)
            return fail(charts.error());
        report.progressUnavailable = QObject::tr(
            "Progress over time is not available from this server: otafleetd keeps where each "
            "device of a rollout stands, not the history of its moves. The Waves chart and the "
            "Rollouts tab show where it stands now.");
        if (!charts->charts()) {
            const QString older = QObject::tr(
                "Not available from this server: this otafleetd predates the console's chart "
                "data; update it to see this chart.");
            report.fleetChartsUnavailable = older;
            report.reasonsUnavailable = older;
            return report;
        }
        report.throughputMBps = histogramOf(charts->throughput_mbps());
        report.installSeconds = histogramOf(charts->install_seconds());
        for (const qint64 day : charts->adoption_days_unix_ms())
            report.adoption.days.append(QDateTime::fromMSecsSinceEpoch(day, Qt::UTC));
        for (const cpb::AdoptionSeries& series : charts->adoption()) {
            AdoptionSeries out;
            out.version = text(series.version());
            for (const quint64 n : series.devices())
                out.devices.append(qint64(n));
            // A series with another length than the days is the server's mistake: left out.
            if (out.devices.size() == report.adoption.days.size())
                report.adoption.series.append(out);
        }
        if (report.rollout) {
            for (const cpb::ReasonCount& reason : charts->rollout_failure_reasons())
                report.rollout->failureReasons.append(
                    {text(reason.error_code()), qint64(reason.count())});
        }
        return report;
    }

    RemoteCaller m_server;
};

RemoteTelemetry::RemoteTelemetry(client::ConsoleSettings settings, RolloutService* rollouts,
                                 std::chrono::seconds callDeadline, QObject* parent)
    : TelemetryService(parent), m_latest(std::make_shared<std::atomic<quint64>>(0)) {
    qRegisterMetaType<TelemetryReport>();
    m_worker = new Worker(std::move(settings), callDeadline);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.setObjectName(QStringLiteral("otafleetd telemetry"));
    m_thread.start();
    if (rollouts) {
        const auto changed = [this] { Q_EMIT dataChanged(); };
        connect(rollouts, &RolloutService::rolloutAdded, this, changed);
        connect(rollouts, &RolloutService::rolloutChanged, this, changed);
    }
}

RemoteTelemetry::~RemoteTelemetry() {
    m_worker->abort();
    m_thread.quit();
    m_thread.wait();
}

quint64 RemoteTelemetry::requestReport(qint64 rolloutId) {
    const quint64 request = ++m_next;
    m_latest->store(request);
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker, request, rolloutId, latest = m_latest,
         owner = QPointer<RemoteTelemetry>(this)] {
            worker->serve(request, rolloutId, *latest, owner);
        },
        Qt::QueuedConnection);
    return request;
}

}  // namespace otafleet::fleet
