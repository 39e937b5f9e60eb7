// Releases kept by the console itself (embedded mode): their records in the fleet's SQLite store
// (store::ReleaseRepository, the table otafleetd uses), their bundles in a folder of the data
// directory, the fleet PKI's release signers to sign with. Every request runs on the global
// thread pool through fleet/ReleaseWork.h, one worker per request, each with its own connection
// to the store; progress and the end come back as queued signals. The GUI thread never waits on
// the disk, the token or the database; only the destructor waits for work still running (a
// request is asked to cancel first).
//
// Embedded fleets have no roles: every action is allowed (actionBlocker() says none); each change
// is written to the store's audit log as the local user.
#pragma once

#include "fleet/ReleaseJobs.h"
#include "fleet/ReleaseWork.h"

#include <QFutureWatcher>

namespace otafleet::fleet {

class EmbeddedFleet;

class EmbeddedReleases : public ReleaseJobs {
    Q_OBJECT
public:
    // `pkiDir`: the fleet PKI (trust and signers); `releaseDir`: where bundles are kept;
    // `user`: who acts. The list is read at once (asynchronously).
    EmbeddedReleases(EmbeddedFleet& fleet, const QString& pkiDir, const QString& releaseDir,
                     const QString& user, QObject* parent = nullptr);
    ~EmbeddedReleases() override;

    [[nodiscard]] QList<ReleaseInfo> releases() const override { return m_releases; }
    void reload() override;
    [[nodiscard]] QFuture<Result<QList<ReleaseSigner>>> signers() const override;

    quint64 requestImport(const QString& bundlePath, const QString& notes) override;
    quint64 requestBuild(const ReleaseDraft& draft) override;
    quint64 requestSign(const QString& bundlePath, const QString& signerName,
                        QByteArray pin) override;
    void discard(const QString& bundlePath) override;
    quint64 requestRevoke(const QString& id, const QString& reason) override;
    quint64 requestSetNotes(const QString& id, const QString& notes) override;
    quint64 requestInspect(const QString& id) override;

    [[nodiscard]] const release::Places& places() const { return m_places; }

private:
    // Runs `job`; the list is read again when it succeeded.
    quint64 runChanging(Job job);

    release::Places m_places;
    QList<ReleaseInfo> m_releases;
    QFutureWatcher<Result<QList<ReleaseInfo>>>* m_loading = nullptr;
    bool m_reloadAgain = false;
};

}  // namespace otafleet::fleet
