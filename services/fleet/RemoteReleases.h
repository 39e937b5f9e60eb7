// The releases of an otafleetd (ConsoleService: UploadRelease, ListReleases, InspectRelease,
// RevokeRelease) as the console's Releases view sees every fleet's releases. Each request runs
// on the thread pool on a connection of its own (signed in as the window's user), so the GUI
// thread never waits on the network. A release made here is built and signed on this
// workstation with its own PKI (the keys never leave its HSM), then uploaded; the server
// verifies it again before it keeps it and records who uploaded it.
//
// What the user's role allows follows otafleetd's RBAC (the RemoteFleet's WhoAmI): uploading
// and revoking are for release managers and admins; the server refuses the rest anyway
// (server.permission-denied). otafleetd keeps no notes beside a release: they are shown from the
// signed manifest and cannot be edited here (release.notes-unsupported).
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/ReleaseJobs.h"

#include <QFutureWatcher>

namespace otafleet::fleet {

class FleetService;

class RemoteReleases final : public ReleaseJobs {
    Q_OBJECT
public:
    // `fleet` (the same server's) tells the signed-in role; it must outlive this object.
    // `pkiDir`: this workstation's PKI for signing (may be empty: no release is made here);
    // `workDir`: where bundles are built before their upload.
    RemoteReleases(client::ConsoleSettings settings, FleetService& fleet, const QString& pkiDir,
                   const QString& workDir, QObject* parent = nullptr);
    ~RemoteReleases() override;

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
    [[nodiscard]] std::optional<QString> actionBlocker(ReleaseAction action) const override;

    // The roles otafleetd lets upload and revoke releases (its Rbac.cpp).
    [[nodiscard]] static QStringList rolesAllowedToChange();

private:
    quint64 runChanging(Job job);

    client::ConsoleSettings m_settings;
    FleetService& m_fleet;
    release::Places m_places;  // storePath empty: nothing local is audited or kept
    QList<ReleaseInfo> m_releases;
    QFutureWatcher<Result<QList<ReleaseInfo>>>* m_loading = nullptr;
    bool m_reloadAgain = false;
};

}  // namespace otafleet::fleet
