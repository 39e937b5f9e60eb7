// The releases of a fleet as the console's Releases view sees them: list, import a signed
// bundle, make a new one from payload files and sign it with a key of the fleet's PKI (in the
// HSM: the PIN comes from the caller, once per signature; a second signer for two-person
// releases), keep notes beside a release, revoke one. EmbeddedReleases keeps them in the
// console's own store; the UI holds only this interface.
//
// Everything that touches the disk, the token or the database runs off the calling thread. Each
// command returns a request number at once, may report requestProgress() and ends with one
// requestFinished(); cancel() asks a running request to stop (building and importing stop at
// the next block; a token that is signing finishes its one operation first).
#pragma once

#include "common/Error.h"
#include "fleet/BundleReport.h"

#include <QByteArray>
#include <QDateTime>
#include <QFuture>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>

namespace otafleet::fleet {

struct ReleaseInfo {
    QString id;  // hex SHA-256 of the bundle file
    QString product;
    QString version;
    quint64 securityVersion = 0;
    QStringList hardware;
    qint64 size = 0;
    QString fileName;     // as imported
    QStringList signers;  // subjects, as verified at import
    QString importedBy;
    QDateTime imported;
    bool revoked = false;
    QDateTime revokedAt;
    QString signedNotes;  // the release notes in the signed manifest (fixed)
    QString notes;        // notes kept beside the release (editable)

    // "Revoked 2026-12-03 10:00 UTC" or "Active".
    [[nodiscard]] QString stateText() const;
};

// A key of the fleet's PKI that may sign releases (a release signer certificate).
struct ReleaseSigner {
    QString name;  // the PKI's name for it ("release" is the one `pki init` made)
    QString subject;
    QString commonName;
    QDateTime notAfter;
    bool keyInToken = false;  // true: signing asks for the token's PIN
    QString tokenLabel;       // the token holding the key (for the PIN dialog)
    QString state;            // "valid", "revoked" or "expired"

    [[nodiscard]] bool usable() const { return state == QLatin1String("valid"); }
};

struct ReleasePayloadFile {
    QString name;  // payload name, also the slot class unless slotClass says otherwise
    QString slotClass = QStringLiteral("rootfs");
    QString path;
};

// What a new release is made of (the same fields as `otafleetctl bundle create`).
struct ReleaseDraft {
    QString product = QStringLiteral("otafleet-firmware");
    QString version;  // SemVer
    quint64 securityVersion = 0;
    QStringList hardware;
    std::optional<QDateTime> expires;  // none: the bundle never expires
    QString releaseNotes;              // signed into the manifest
    QList<ReleasePayloadFile> payloads;
};

enum class ReleaseAction { Import, Create, Revoke, EditNotes };

class ReleaseService : public QObject {
    Q_OBJECT
public:
    ~ReleaseService() override;

    // What the service holds now, newest first; releasesChanged() says when that moved.
    [[nodiscard]] virtual QList<ReleaseInfo> releases() const = 0;
    [[nodiscard]] std::optional<ReleaseInfo> release(const QString& id) const;
    // Reads the list again (off the calling thread); releasesChanged() when it is in.
    virtual void reload() = 0;

    // The keys that may sign releases here, read off the calling thread. Errors: pki.* (no
    // PKI on this workstation, or it cannot be read).
    [[nodiscard]] virtual QFuture<Result<QList<ReleaseSigner>>> signers() const = 0;

    // Imports a signed bundle file: verified against the fleet's release trust (the same check a
    // device makes, without a device's rules), then kept. The result is the release id.
    // Errors: the verifier's bundle.* / crypto.* refusals, release.no-trust, store.duplicate,
    // io.*, release.cancelled.
    virtual quint64 requestImport(const QString& bundlePath, const QString& notes) = 0;
    // Makes an unsigned bundle from `draft`; the result is its path (a work file of the service,
    // signed with requestSign(), kept with requestImport(), or dropped with discard()).
    // Errors: bundle.invalid-input, semver.*, io.*, release.cancelled.
    virtual quint64 requestBuild(const ReleaseDraft& draft) = 0;
    // Adds one signature by `signerName` (ReleaseSigner::name) to the bundle at `bundlePath`.
    // `pin` (UTF-8; empty for a key file) is moved in and wiped after use. The result is the
    // path. Errors: crypto.pin-incorrect, crypto.pin-missing, crypto.token-not-found,
    // pki.unknown-name, pki.signer-revoked, crypto.*, bundle.*.
    virtual quint64 requestSign(const QString& bundlePath, const QString& signerName,
                                QByteArray pin) = 0;
    // Removes a work file requestBuild() made (a dialog was cancelled).
    virtual void discard(const QString& bundlePath) = 0;
    // Errors: store.not-found, store.already-revoked, and a server's refusals.
    virtual quint64 requestRevoke(const QString& id, const QString& reason) = 0;
    // Errors: store.not-found, store.notes-too-long.
    virtual quint64 requestSetNotes(const QString& id, const QString& notes) = 0;
    // Checks the stored bundle again; ends with releaseInspected() (and requestFinished()).
    virtual quint64 requestInspect(const QString& id) = 0;
    virtual void cancel(quint64 request) = 0;

    // Why the user may not do `action` here, as a sentence for a tooltip; none when they may.
    [[nodiscard]] virtual std::optional<QString> actionBlocker(ReleaseAction action) const;

Q_SIGNALS:
    void requestProgress(quint64 request, const QString& phase, qint64 done, qint64 total);
    // `result`: the release id (import, revoke, notes, inspect) or bundle path (build, sign).
    void requestFinished(quint64 request, const QString& result,
                         const std::optional<otafleet::Error>& error);
    void releasesChanged();
    void releaseInspected(const QString& id, const otafleet::fleet::BundleReport& report);
    void permissionsChanged();

protected:
    explicit ReleaseService(QObject* parent = nullptr);
};

}  // namespace otafleet::fleet

Q_DECLARE_METATYPE(otafleet::fleet::ReleaseInfo)
