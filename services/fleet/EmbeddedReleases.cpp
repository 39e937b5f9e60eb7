#include "fleet/EmbeddedReleases.h"

#include "fleet/EmbeddedFleet.h"
#include "store/FleetStore.h"

#include <QFile>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace otafleet::fleet {

EmbeddedReleases::EmbeddedReleases(EmbeddedFleet& fleet, const QString& pkiDir,
                                   const QString& releaseDir, const QString& user, QObject* parent)
    : ReleaseService(parent),
      m_places{fleet.store().path(), pkiDir, QFileInfo(releaseDir).absoluteFilePath(), user} {
    qRegisterMetaType<std::optional<otafleet::Error>>();
    qRegisterMetaType<otafleet::fleet::BundleReport>();
    reload();
}

EmbeddedReleases::~EmbeddedReleases() {
    for (const Running& r : std::as_const(m_running))
        r.cancelled->store(true);
    for (const Running& r : std::as_const(m_running))
        r.watcher->waitForFinished();
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

quint64 EmbeddedReleases::run(Job job, bool changesList) {
    const quint64 request = ++m_lastRequest;
    Running running;
    running.cancelled = std::make_shared<std::atomic_bool>(false);
    running.watcher = new QFutureWatcher<Result<QString>>(this);
    release::Control control;
    control.cancelled = [flag = running.cancelled] { return flag->load(); };
    // Queued to this object's thread; the destructor waits for the job, so `this` outlives it.
    control.progress = [this, request](const QString& phase, qint64 done, qint64 total) {
        QMetaObject::invokeMethod(
            this,
            [this, request, phase, done, total] {
                Q_EMIT requestProgress(request, phase, done, total);
            },
            Qt::QueuedConnection);
    };
    connect(running.watcher, &QFutureWatcherBase::finished, this, [this, request, changesList] {
        const Running done = m_running.take(request);
        const Result<QString> result = done.watcher->result();
        done.watcher->deleteLater();
        if (result && changesList)
            reload();
        Q_EMIT requestFinished(request, result ? *result : QString(),
                               result ? std::nullopt : std::optional<Error>(result.error()));
    });
    m_running.insert(request, running);
    running.watcher->setFuture(QtConcurrent::run(
        [job = std::move(job), control = std::move(control)] { return job(control); }));
    return request;
}

quint64 EmbeddedReleases::requestImport(const QString& bundlePath, const QString& notes) {
    return run(
        [places = m_places, bundlePath, notes](const release::Control& control) {
            return release::importBundle(places, bundlePath, notes, control);
        },
        true);
}

quint64 EmbeddedReleases::requestBuild(const ReleaseDraft& draft) {
    return run(
        [places = m_places, draft](const release::Control& control) {
            return release::build(places, draft, control);
        },
        false);
}

quint64 EmbeddedReleases::requestSign(const QString& bundlePath, const QString& signerName,
                                      QByteArray pin) {
    // The PIN travels in a shared holder so that no copy stays in this thread's lambda.
    auto secret = std::make_shared<QByteArray>(std::move(pin));
    return run(
        [places = m_places, bundlePath, signerName, secret](const release::Control&) {
            QByteArray taken = std::move(*secret);
            secret->fill('\0');
            return release::sign(places, bundlePath, signerName, std::move(taken));
        },
        false);
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
    return run(
        [places = m_places, id, reason](const release::Control&) -> Result<QString> {
            if (auto ok = release::revoke(places, id, reason); !ok)
                return fail(ok.error());
            return id;
        },
        true);
}

quint64 EmbeddedReleases::requestSetNotes(const QString& id, const QString& notes) {
    return run(
        [places = m_places, id, notes](const release::Control&) -> Result<QString> {
            if (auto ok = release::setNotes(places, id, notes); !ok)
                return fail(ok.error());
            return id;
        },
        true);
}

quint64 EmbeddedReleases::requestInspect(const QString& id) {
    return run(
        [this, places = m_places, id](const release::Control&) -> Result<QString> {
            const BundleReport report = release::inspect(places, id);
            // Delivered before requestFinished(): both are queued to this object in order.
            QMetaObject::invokeMethod(
                this, [this, id, report] { Q_EMIT releaseInspected(id, report); },
                Qt::QueuedConnection);
            return id;
        },
        false);
}

void EmbeddedReleases::cancel(quint64 request) {
    if (auto it = m_running.find(request); it != m_running.end())
        it->cancelled->store(true);
}

}  // namespace otafleet::fleet
