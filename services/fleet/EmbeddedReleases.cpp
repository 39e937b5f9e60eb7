#include "fleet/EmbeddedReleases.h"

#include "fleet/EmbeddedFleet.h"
#include "store/FleetStore.h"

#include <QFile>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace otafleet::fleet {

EmbeddedReleases::EmbeddedReleases(EmbeddedFleet& fleet, const QString& pkiDir,
                                   const QString& releaseDir, const QString& user, QObject* parent)
    : ReleaseJobs(parent),
      m_places{fleet.store().path(), pkiDir, QFileInfo(releaseDir).absoluteFilePath(), user} {
    reload();
}

EmbeddedReleases::~EmbeddedReleases() {
    waitForJobs();
    if (m_loading)
        m_loading->waitForFinished();
}

void EmbeddedReleases::reload() {
    if (m_loading) {
        m_reloadAgain = true;  // one more read once this one is in: it may predate a change
        return;
    }
    m_loading = new QFutureWatcher<Result<QList<ReleaseInfo>>>(this);
    connect(m_loading, &QFutureWatcherBase::finished, this, [this] {
        auto loaded = m_loading->result();
        m_loading->deleteLater();
        m_loading = nullptr;
        if (loaded) {
            m_releases = *loaded;
            Q_EMIT releasesChanged();
        }
        if (m_reloadAgain) {
            m_reloadAgain = false;
            reload();
        }
    });
    m_loading->setFuture(QtConcurrent::run([places = m_places] { return release::load(places); }));
}

QFuture<Result<QList<ReleaseSigner>>> EmbeddedReleases::signers() const {
    return QtConcurrent::run([pki = m_places.pkiDir] { return release::listSigners(pki); });
}

quint64 EmbeddedReleases::runChanging(Job job) {
    return run(std::move(job), [this](const Result<QString>& result) {
        if (result)
            reload();
    });
}

quint64 EmbeddedReleases::requestImport(const QString& bundlePath, const QString& notes) {
    return runChanging([places = m_places, bundlePath, notes](const release::Control& control) {
        return release::importBundle(places, bundlePath, notes, control);
    });
}

quint64 EmbeddedReleases::requestBuild(const ReleaseDraft& draft) {
    return run([places = m_places, draft](const release::Control& control) {
        return release::build(places, draft, control);
    });
}

quint64 EmbeddedReleases::requestSign(const QString& bundlePath, const QString& signerName,
                                      QByteArray pin) {
    // The PIN travels in a shared holder so that no copy stays in this thread's lambda.
    auto secret = std::make_shared<QByteArray>(std::move(pin));
    return run([places = m_places, bundlePath, signerName, secret](const release::Control&) {
        QByteArray taken = std::move(*secret);
        secret->fill('\0');
        return release::sign(places, bundlePath, signerName, std::move(taken));
    });
}

void EmbeddedReleases::discard(const QString& bundlePath) {
    // Only the service's own work files; never a bundle the user chose.
    const QString work =
        QFileInfo(m_places.releaseDir + QStringLiteral("/work")).absoluteFilePath();
    if (QFileInfo(bundlePath).absolutePath() != work)
        return;
    (void)QtConcurrent::run([bundlePath] { QFile::remove(bundlePath); });
}

quint64 EmbeddedReleases::requestRevoke(const QString& id, const QString& reason) {
    return runChanging([places = m_places, id, reason](const release::Control&) -> Result<QString> {
        if (auto ok = release::revoke(places, id, reason); !ok)
            return fail(ok.error());
        return id;
    });
}

quint64 EmbeddedReleases::requestSetNotes(const QString& id, const QString& notes) {
    return runChanging([places = m_places, id, notes](const release::Control&) -> Result<QString> {
        if (auto ok = release::setNotes(places, id, notes); !ok)
            return fail(ok.error());
        return id;
    });
}

quint64 EmbeddedReleases::requestInspect(const QString& id) {
    return run([this, places = m_places, id](const release::Control&) -> Result<QString> {
        const BundleReport report = release::inspect(places, id);
        // Delivered before requestFinished(): both are queued to this object in order.
        QMetaObject::invokeMethod(
            this, [this, id, report] { Q_EMIT releaseInspected(id, report); },
            Qt::QueuedConnection);
        return id;
    });
}

}  // namespace otafleet::fleet
