#include "fleet/RemoteReleases.h"

#include "bundle/Manifest.h"
#include "consoleclient/ConsoleClient.h"
#include "consoleclient/ReleaseUpload.h"
#include "fleet/FleetService.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace otafleet::fleet {

namespace {

namespace cpb = client::cpb;

std::string str(const QString& s) {
    return s.toStdString();
}

QString text(const std::string& s) {
    return QString::fromStdString(s);
}

// A connection of the job's own, signed in (the settings' password copy is wiped by open()).
Result<std::unique_ptr<client::ConsoleClient>> signIn(const client::ConsoleSettings& settings) {
    client::ConsoleSettings attempt = settings;
    attempt.password.detach();
    return client::ConsoleClient::open(attempt);
}

ReleaseInfo infoOf(const cpb::Release& r) {
    ReleaseInfo info;
    info.id = text(r.id());
    info.product = text(r.product());
    info.version = text(r.version());
    info.securityVersion = r.security_version();
    for (const std::string& h : r.hardware())
        info.hardware << text(h);
    info.size = static_cast<qint64>(r.size());
    info.fileName = text(r.file_name());
    for (const std::string& s : r.signers())
        info.signers << text(s);
    info.importedBy = text(r.uploaded_by());
    info.imported = QDateTime::fromMSecsSinceEpoch(r.uploaded_unix_ms(), Qt::UTC);
    info.revoked = r.revoked();
    if (info.revoked)
        info.revokedAt = QDateTime::fromMSecsSinceEpoch(r.revoked_unix_ms(), Qt::UTC);
    if (!r.manifest_json().empty()) {
        if (auto m = bundle::Manifest::parse(QByteArrayView(r.manifest_json())))
            info.signedNotes = m->releaseNotes;
    }
    return info;
}

// What the server says of a release it keeps: it verified the bundle completely at upload and
// keeps only what verified, so its manifest and signers are the report (without the chains,
// which it does not send).
BundleReport reportOf(const cpb::Release& r) {
    BundleReport report;
    report.path = text(r.file_name());
    auto m = bundle::Manifest::parse(QByteArrayView(r.manifest_json()));
    if (!m) {
        report.verdict = BundleReport::Verdict::Refused;
        report.error = m.error();
        return report;
    }
    report.manifestRead = true;
    report.product = m->product;
    report.version = m->version.toString();
    report.securityVersion = m->securityVersion;
    report.hardware = m->hardware;
    report.created = m->created;
    report.expires = m->expires;
    report.minAgentVersion = m->minAgentVersion.toString();
    report.releaseNotes = m->releaseNotes;
    for (const bundle::PayloadEntry& e : m->payloads) {
        report.payloads.append(BundlePayloadInfo{e.name, e.slotClass, e.size, e.targetSize,
                                                 bundle::encodingName(e.encoding)});
    }
    for (const std::string& s : r.signers()) {
        BundleSignerInfo signer;
        signer.subject = text(s);
        signer.commonName = text(s);
        report.signers.append(signer);
    }
    report.verdict = BundleReport::Verdict::Verified;
    return report;
}

Result<QString> upload(const client::ConsoleSettings& settings, const QString& path,
                       const release::Control& control) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(
            QStringLiteral("io.read-failed"),
            QObject::tr("%1 cannot be read (%2); check the path.").arg(path, file.errorString()));
    }
    auto client = signIn(settings);
    if (!client)
        return fail(client.error());
    auto ctx = (*client)->context(std::chrono::seconds(600));
    client::UploadOptions options;
    options.progress = [&control](qint64 sent, qint64 total) {
        if (control.stop())
            return false;
        if (sent < total)
            control.report(QObject::tr("Uploading to otafleetd"), sent, total);
        else
            control.report(QObject::tr("otafleetd verifies the bundle"), 0, 0);
        return true;
    };
    auto uploaded = client::uploadRelease(**client, *ctx, file, options);
    if (!uploaded) {
        if (uploaded.error().code == u"client.upload-cancelled")
            return fail(release::cancelledError());
        return fail(uploaded.error());
    }
    return text(uploaded->id());
}

}  // namespace

RemoteReleases::RemoteReleases(client::ConsoleSettings settings, FleetService& fleet,
                               const QString& pkiDir, const QString& workDir, QObject* parent)
    : ReleaseJobs(parent),
      m_settings(std::move(settings)),
      m_fleet(fleet),
      m_places{QString(), pkiDir, QFileInfo(workDir).absoluteFilePath(), m_settings.user} {
    // The role (and so what may be done) is known once the fleet signed in; reconnected, the
    // list may have moved.
    QObject::connect(&m_fleet, &FleetService::connectionChanged, this, [this] {
        Q_EMIT permissionsChanged();
        if (m_fleet.connection().state == FleetConnection::State::Online)
            reload();
    });
    reload();
}

RemoteReleases::~RemoteReleases() {
    waitForJobs();
    if (m_loading)
        m_loading->waitForFinished();
}

void RemoteReleases::reload() {
    if (m_loading) {
        m_reloadAgain = true;
        return;
    }
    m_loading = new QFutureWatcher<Result<QList<ReleaseInfo>>>(this);
    QObject::connect(m_loading, &QFutureWatcherBase::finished, this, [this] {
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
    m_loading->setFuture(QtConcurrent::run([settings = m_settings]() -> Result<QList<ReleaseInfo>> {
        auto client = signIn(settings);
        if (!client)
            return fail(client.error());
        auto list =
            (*client)->call(&cpb::ConsoleService::Stub::ListReleases, cpb::ListReleasesRequest{});
        if (!list)
            return fail(list.error());
        QList<ReleaseInfo> releases;
        for (const cpb::Release& r : list->releases())
            releases.append(infoOf(r));
        return releases;
    }));
}

QFuture<Result<QList<ReleaseSigner>>> RemoteReleases::signers() const {
    return QtConcurrent::run([pki = m_places.pkiDir]() -> Result<QList<ReleaseSigner>> {
        if (pki.isEmpty()) {
            return fail(QStringLiteral("release.no-pki"),
                        QObject::tr("This console signed in without a PKI, so it holds no "
                                    "release key; sign releases where the keys are, then "
                                    "import the bundle."));
        }
        return release::listSigners(pki);
    });
}

quint64 RemoteReleases::runChanging(Job job) {
    return run(std::move(job), [this](const Result<QString>& result) {
        if (result)
            reload();
    });
}

quint64 RemoteReleases::requestImport(const QString& bundlePath, const QString&) {
    const bool ours = QFileInfo(bundlePath).absolutePath() ==
                      QFileInfo(m_places.releaseDir + QStringLiteral("/work")).absoluteFilePath();
    return runChanging([settings = m_settings, bundlePath, ours](const release::Control& control) {
        auto id = upload(settings, bundlePath, control);
        if (id && ours)
            QFile::remove(bundlePath);  // the server keeps it now
        return id;
    });
}

quint64 RemoteReleases::requestBuild(const ReleaseDraft& draft) {
    return run([places = m_places, draft](const release::Control& control) {
        return release::build(places, draft, control);
    });
}

quint64 RemoteReleases::requestSign(const QString& bundlePath, const QString& signerName,
                                    QByteArray pin) {
    auto secret = std::make_shared<QByteArray>(std::move(pin));
    return run([places = m_places, bundlePath, signerName, secret](const release::Control&) {
        QByteArray taken = std::move(*secret);
        secret->fill('\0');
        return release::sign(places, bundlePath, signerName, std::move(taken));
    });
}

void RemoteReleases::discard(const QString& bundlePath) {
    const QString work =
        QFileInfo(m_places.releaseDir + QStringLiteral("/work")).absoluteFilePath();
    if (QFileInfo(bundlePath).absolutePath() != work)
        return;
    (void)QtConcurrent::run([bundlePath] { QFile::remove(bundlePath); });
}

quint64 RemoteReleases::requestRevoke(const QString& id, const QString& reason) {
    return runChanging(
        [settings = m_settings, id, reason](const release::Control&) -> Result<QString> {
            auto client = signIn(settings);
            if (!client)
                return fail(client.error());
            cpb::RevokeReleaseRequest request;
            request.set_id(str(id));
            request.set_reason(str(reason));
            auto revoked = (*client)->call(&cpb::ConsoleService::Stub::RevokeRelease, request);
            if (!revoked)
                return fail(revoked.error());
            return id;
        });
}

quint64 RemoteReleases::requestSetNotes(const QString&, const QString&) {
    return run([](const release::Control&) -> Result<QString> {
        return fail(QStringLiteral("release.notes-unsupported"),
                    QObject::tr("otafleetd keeps no notes beside a release; only the notes "
                                "signed into it are shown."));
    });
}

quint64 RemoteReleases::requestInspect(const QString& id) {
    return run([this, settings = m_settings, id](const release::Control&) -> Result<QString> {
        auto client = signIn(settings);
        if (!client)
            return fail(client.error());
        cpb::InspectReleaseRequest request;
        request.set_id(str(id));
        auto inspected = (*client)->call(&cpb::ConsoleService::Stub::InspectRelease, request);
        if (!inspected)
            return fail(inspected.error());
        const BundleReport report = reportOf(*inspected);
        QMetaObject::invokeMethod(
            this, [this, id, report] { Q_EMIT releaseInspected(id, report); },
            Qt::QueuedConnection);
        return id;
    });
}

QStringList RemoteReleases::rolesAllowedToChange() {
    return {QStringLiteral("release-manager"), QStringLiteral("admin")};
}

std::optional<QString> RemoteReleases::actionBlocker(ReleaseAction action) const {
    if (action == ReleaseAction::EditNotes) {
        return tr(
            "otafleetd keeps no notes beside a release; the notes signed into it are "
            "shown.");
    }
    const FleetConnection c = m_fleet.connection();
    if (c.role.isEmpty())
        return tr("Waiting for otafleetd to say what your role allows.");
    if (rolesAllowedToChange().contains(c.role))
        return std::nullopt;
    const QString what =
        action == ReleaseAction::Revoke ? tr("revoke releases") : tr("add releases");
    return tr("As %1 (%2) you may not %3 on this server; ask a release manager or an admin.")
        .arg(c.user, c.role == u"release-manager" ? tr("release manager") : c.role, what);
}

}  // namespace otafleet::fleet
