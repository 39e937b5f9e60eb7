#include "fleet/EmbeddedAlerts.h"

#include "fleet/LazyStore.h"
#include "fleet/WorkerThread.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcEmbeddedAlerts, "otafleet.fleet.alerts")

namespace otafleet::fleet {

class EmbeddedAlerts::Worker : public WorkerThread<LazyStore> {
public:
    using WorkerThread::WorkerThread;
};

EmbeddedAlerts::EmbeddedAlerts(QString storePath, std::chrono::milliseconds pollInterval,
                               QObject* parent)
    : QObject(parent),
      m_worker(std::make_unique<Worker>(QStringLiteral("alerts"), std::move(storePath))) {
    m_timer.setInterval(pollInterval);
    connect(&m_timer, &QTimer::timeout, this, &EmbeddedAlerts::poll);
    m_timer.start();
    QTimer::singleShot(0, this, &EmbeddedAlerts::poll);
}

EmbeddedAlerts::~EmbeddedAlerts() = default;

void EmbeddedAlerts::poll() {
    if (m_polling)
        return;
    m_polling = true;
    m_worker->post(
        this,
        [](LazyStore& s) -> Result<QList<ReleaseSighting>> {
            auto store = s.get();
            if (!store)
                return std::unexpected(store.error());
            auto releases = (*store)->releases().all();
            if (!releases)
                return std::unexpected(releases.error());
            QList<ReleaseSighting> out;
            for (const store::ReleaseRecord& r : *releases) {
                out.append({r.id, r.version,
                            QStringLiteral("%1 %2 (%3) was added to this workstation's "
                                           "releases%4.")
                                .arg(r.product, r.version, r.fileName,
                                     r.uploadedBy.isEmpty()
                                         ? QString()
                                         : QStringLiteral(" by %1").arg(r.uploadedBy))});
            }
            return out;
        },
        [this](const Result<QList<ReleaseSighting>>& listed) {
            m_polling = false;
            if (!listed) {
                qCInfo(lcEmbeddedAlerts).noquote() << listed.error().toString();
                return;
            }
            for (const ReleaseSighting& r : m_releases.take(*listed))
                Q_EMIT releaseAdded(r.version, r.detail);
        });
}

}  // namespace otafleet::fleet
