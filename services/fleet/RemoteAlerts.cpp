#include "fleet/RemoteAlerts.h"

#include "fleet/RemoteCaller.h"
#include "fleet/WorkerThread.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcRemoteAlerts, "otafleet.fleet.remote-alerts")

namespace otafleet::fleet {
namespace {

namespace cpb = client::cpb;

struct Tamper {
    QString device;
    QString detail;
    QString key;
};

struct Answer {
    QList<Tamper> tampers;
    QList<ReleaseSighting> releases;
};

Result<Answer> ask(RemoteCaller& caller) {
    Answer answer;
    auto anomalies =
        caller.call(&cpb::ConsoleService::Stub::ListAnomalies, cpb::ListAnomaliesRequest());
    if (!anomalies)
        return std::unexpected(anomalies.error());
    for (const cpb::Anomaly& a : anomalies->anomalies()) {
        const QString kind = QString::fromStdString(a.kind());
        if (kind != u"tampered-slot" && kind != u"signature-failure")
            continue;
        const QString device = QString::fromStdString(a.device_id());
        answer.tampers.append(
            {device, QString::fromStdString(a.detail()),
             QStringLiteral("%1\n%2\n%3").arg(kind, device).arg(a.time_unix_ms())});
    }
    auto releases =
        caller.call(&cpb::ConsoleService::Stub::ListReleases, cpb::ListReleasesRequest());
    if (!releases)
        return std::unexpected(releases.error());
    for (const cpb::Release& r : releases->releases()) {
        const QString by = QString::fromStdString(r.uploaded_by());
        answer.releases.append(
            {QString::fromStdString(r.id()), QString::fromStdString(r.version()),
             QStringLiteral("%1 %2 (%3) was uploaded to the server%4.")
                 .arg(QString::fromStdString(r.product()), QString::fromStdString(r.version()),
                      QString::fromStdString(r.file_name()),
                      by.isEmpty() ? QString() : QStringLiteral(" by %1").arg(by))});
    }
    return answer;
}

}  // namespace

class RemoteAlerts::Worker : public WorkerThread<RemoteCaller> {
public:
    using WorkerThread::WorkerThread;
};

RemoteAlerts::RemoteAlerts(client::ConsoleSettings settings, std::chrono::milliseconds pollInterval,
                           std::chrono::seconds callDeadline, QObject* parent)
    : QObject(parent),
      m_worker(std::make_unique<Worker>(QStringLiteral("otafleetd alerts"), std::move(settings),
                                        callDeadline)) {
    m_timer.setInterval(pollInterval);
    connect(&m_timer, &QTimer::timeout, this, &RemoteAlerts::poll);
    m_timer.start();
    QTimer::singleShot(0, this, &RemoteAlerts::poll);
}

RemoteAlerts::~RemoteAlerts() {
    m_worker->state().abort();
}

void RemoteAlerts::poll() {
    if (m_polling)
        return;  // one question at a time
    m_polling = true;
    m_worker->post(
        this, [](RemoteCaller& caller) { return ask(caller); },
        [this](const Result<Answer>& answer) {
            m_polling = false;
            if (!answer) {
                qCInfo(lcRemoteAlerts).noquote() << answer.error().toString();
                return;
            }
            for (const Tamper& t : answer->tampers)
                Q_EMIT tamperReported(t.device, t.detail, t.key);
            for (const ReleaseSighting& r : m_releases.take(answer->releases))
                Q_EMIT releaseAdded(r.version, r.detail);
        });
}

}  // namespace otafleet::fleet
