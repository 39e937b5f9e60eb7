#include "fleet/ReleaseWork.h"

#include "bundle/Bundle.h"
#include "bundle/BundleBuilder.h"
#include "bundle/Manifest.h"
#include "common/SemVer.h"
#include "crypto/Pkcs11Uri.h"
#include "crypto/Pki.h"
#include "crypto/SecretString.h"
#include "crypto/Sha256.h"
#include "fleet/BundleInspection.h"
#include "store/FleetStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QUuid>

namespace otafleet::fleet::release {
namespace {

constexpr qint64 kBlock = 1024 * 1024;

QString workDir(const Places& places) {
    return QDir(places.releaseDir).filePath(QStringLiteral("work"));
}

QString subjectOf(const QString& id) {
    return QStringLiteral("release:%1").arg(id);
}

ReleaseInfo infoOf(const store::ReleaseRecord& r) {
    ReleaseInfo info;
    info.id = r.id;
    info.product = r.product;
    info.version = r.version;
    info.securityVersion = r.securityVersion;
    info.hardware = r.hardware;
    info.size = r.size;
    info.fileName = r.fileName;
    info.signers = r.signers;
    info.importedBy = r.uploadedBy;
    info.imported = r.uploaded;
    info.revoked = r.revoked;
    info.revokedAt = r.revokedAt;
    info.notes = r.notes;
    if (auto manifest = bundle::Manifest::parse(r.manifestJson))
        info.signedNotes = manifest->releaseNotes;
    return info;
}

// Appends to the store's audit log; a failure there fails the command (an unaudited change is
// not allowed to look done).
Status audit(store::FleetStore& store, const Places& places, const QString& id,
             const QString& action, const QString& detail) {
    auto appended = store.audit().append(places.user, subjectOf(id), action, detail);
    if (!appended)
        return fail(appended.error());
    return {};
}

// Reads `path` once: its SHA-256 (the release id), with progress and Cancel.
Result<QString> hashFile(const QString& path, const Control& control) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("%1 cannot be read (%2); check the path and its permissions.")
                        .arg(path, file.errorString()));
    }
    const qint64 total = file.size();
    crypto::Sha256 hasher;
    qint64 done = 0;
    while (!file.atEnd()) {
        if (control.stop())
            return fail(cancelledError());
        const QByteArray block = file.read(kBlock);
        if (block.isEmpty() && !file.atEnd()) {
            return fail(QStringLiteral("io.read-failed"),
                        QStringLiteral("%1 could not be read to its end (%2).")
                            .arg(path, file.errorString()));
        }
        hasher.update(block);
        done += block.size();
        control.report(QObject::tr("Reading the bundle"), done, total);
    }
    return QString::fromLatin1(hasher.finish().toHex());
}

// Copies `from` to `to` through a temporary file (all or nothing), with progress and Cancel.
Status copyFile(const QString& from, const QString& to, const Control& control) {
    QFile in(from);
    QSaveFile out(to);
    if (!in.open(QIODevice::ReadOnly) || !out.open(QIODevice::WriteOnly)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("The bundle could not be copied to %1 (%2); check the disk.")
                        .arg(to, out.errorString()));
    }
    const qint64 total = in.size();
    qint64 done = 0;
    while (!in.atEnd()) {
        if (control.stop())
            return fail(cancelledError());
        const QByteArray block = in.read(kBlock);
        if (out.write(block) != block.size()) {
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("The bundle could not be written to %1 (%2); check that "
                                       "the disk is not full.")
                            .arg(to, out.errorString()));
        }
        done += block.size();
        control.report(QObject::tr("Keeping the bundle"), done, total);
    }
    if (!out.commit()) {
        return fail(
            QStringLiteral("io.write-failed"),
            QStringLiteral("The bundle could not be saved as %1 (%2).").arg(to, out.errorString()));
    }
    return {};
}

Result<std::unique_ptr<store::FleetStore>> openStore(const Places& places) {
    return store::FleetStore::open(places.storePath);
}

}  // namespace

Error cancelledError() {
    return {QStringLiteral("release.cancelled"),
            QObject::tr("Cancelled; nothing was kept. Start again when you are ready.")};
}

Result<QList<ReleaseInfo>> load(const Places& places) {
    auto store = openStore(places);
    if (!store)
        return fail(store.error());
    auto records = (*store)->releases().all();
    if (!records)
        return fail(records.error());
    QList<ReleaseInfo> releases;
    releases.reserve(records->size());
    for (const store::ReleaseRecord& r : *records)
        releases.append(infoOf(r));
    return releases;
}

Result<QList<ReleaseSigner>> listSigners(const QString& pkiDir) {
    auto pki = crypto::Pki::open(pkiDir);
    if (!pki)
        return fail(pki.error());
    auto issued = pki->issued();
    if (!issued)
        return fail(issued.error());
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QList<ReleaseSigner> signers;
    for (const crypto::IssuedCertificate& c : *issued) {
        if (c.kind != crypto::IssueKind::ReleaseSigner || c.keyReference.isEmpty())
            continue;  // a signer whose key was never here (a CSR) cannot sign from here
        ReleaseSigner s;
        s.name = c.name;
        s.subject = c.subject;
        s.notAfter = c.notAfter;
        s.keyInToken = c.keyInToken();
        s.state = c.state(now);
        if (auto cert = pki->signerCertificate(c.name))
            s.commonName = cert->commonName();
        if (s.keyInToken) {
            if (auto uri = crypto::Pkcs11Uri::parse(c.keyReference))
                s.tokenLabel = uri->token;
        }
        signers.append(s);
    }
    return signers;
}

Result<QString> build(const Places& places, const ReleaseDraft& draft, const Control& control) {
    auto version = SemVer::parse(draft.version.trimmed());
    if (!version)
        return fail(version.error());
    bundle::CreateOptions options;
    options.product = draft.product.trimmed();
    options.version = *version;
    options.securityVersion = draft.securityVersion;
    options.hardware = draft.hardware;
    options.expires = draft.expires;
    options.releaseNotes = draft.releaseNotes;
    for (const ReleasePayloadFile& p : draft.payloads)
        options.payloads.append(bundle::PayloadInput{p.name, p.slotClass, p.path});
    options.cancelled = control.cancelled;
    if (!QDir().mkpath(workDir(places))) {
        return fail(QStringLiteral("io.write-failed"),
                    QObject::tr("The folder %1 cannot be created; check the data folder's "
                                "permissions.")
                        .arg(workDir(places)));
    }
    const QString out = QDir(workDir(places))
                            .filePath(QStringLiteral("%1-%2-%3.otab")
                                          .arg(options.product, options.version.toString(),
                                               QUuid::createUuid().toString(QUuid::Id128)));
    auto created = bundle::createBundle(options, out, [&](qint64 done, qint64 total) {
        control.report(QObject::tr("Hashing and writing payloads"), done, total);
    });
    if (!created) {
        if (created.error().code == QLatin1String("bundle.cancelled"))
            return fail(cancelledError());
        return fail(created.error());
    }
    return out;
}

Result<QString> sign(const Places& places, const QString& bundlePath, const QString& signerName,
                     QByteArray pin) {
    // The PIN moves into a SecretString at once (wiped when it goes); the provider hands the
    // token a copy once.
    auto secret = std::make_shared<crypto::SecretString>(std::move(pin));
    pin.fill('\0');
    auto pki = crypto::Pki::open(places.pkiDir);
    if (!pki)
        return fail(pki.error());
    auto key = pki->openSignerKey(signerName, [secret]() -> Result<crypto::SecretString> {
        if (secret->isEmpty()) {
            return fail(QStringLiteral("crypto.pin-missing"),
                        QObject::tr("No PIN was entered for the token; enter it to sign."));
        }
        return crypto::SecretString(QByteArray(secret->c_str(), secret->size()));
    });
    if (!key)
        return fail(key.error());
    auto cert = pki->signerCertificate(signerName);
    if (!cert)
        return fail(cert.error());
    auto chain = pki->signerChain(signerName);
    if (!chain)
        return fail(chain.error());
    if (auto signedBundle = bundle::signBundle(bundlePath, **key, *cert, *chain); !signedBundle)
        return fail(signedBundle.error());
    // The key was used: that is audited even if the bundle is never kept (here; a server
    // audits the upload, and a console without a store of its own has nothing to write to).
    if (places.storePath.isEmpty())
        return bundlePath;
    if (auto store = openStore(places)) {
        if (auto ok = audit(**store, places, QFileInfo(bundlePath).fileName(),
                            QStringLiteral("release.sign"), cert->subject());
            !ok) {
            return fail(ok.error());
        }
    } else {
        return fail(store.error());
    }
    return bundlePath;
}

Result<QString> importBundle(const Places& places, const QString& bundlePath, const QString& notes,
                             const Control& control) {
    if (notes.size() > store::ReleaseRepository::kMaxNotes) {
        return fail(QStringLiteral("store.notes-too-long"),
                    QObject::tr("Release notes can be at most 64 KiB of text; shorten them."));
    }
    const QString trust = QDir(places.pkiDir).filePath(QStringLiteral("root-ca.pem"));
    if (!QFileInfo::exists(trust)) {
        return fail(QStringLiteral("release.no-trust"),
                    QObject::tr("This workstation has no fleet PKI (%1 is missing), so a bundle "
                                "cannot be checked before it is kept. Start the console with "
                                "--pki PKI.")
                        .arg(trust));
    }
    auto id = hashFile(bundlePath, control);
    if (!id)
        return fail(id.error());
    control.report(QObject::tr("Verifying signature and payloads"), 0, 0);
    BundleCheck check;
    check.bundlePath = bundlePath;
    check.trustPemPath = trust;
    check.deviceClass = DeviceClass::Linux;
    const BundleReport report = inspectBundle(check);
    if (!report.verified()) {
        return fail(report.error.value_or(
            Error{QStringLiteral("release.unverified"), report.verdictSentence()}));
    }
    if (control.stop())
        return fail(cancelledError());
    auto store = openStore(places);
    if (!store)
        return fail(store.error());
    if (auto existing = (*store)->releases().get(*id); existing) {
        return fail(QStringLiteral("store.duplicate"),
                    QObject::tr("This bundle is already release %1 %2 (imported %3).")
                        .arg(existing->product, existing->version,
                             existing->uploaded.toString(Qt::ISODate)));
    }
    const QString blob = QDir(places.releaseDir).filePath(*id + QStringLiteral(".otab"));
    // A bundle this service built is moved (it is ours); any other file is copied.
    const bool ours =
        QFileInfo(bundlePath).absolutePath() == QFileInfo(workDir(places)).absoluteFilePath();
    if (!QDir().mkpath(places.releaseDir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QObject::tr("The folder %1 cannot be created; check the data folder's "
                                "permissions.")
                        .arg(places.releaseDir));
    }
    QFile::remove(blob);
    if (ours) {
        if (!QFile::rename(bundlePath, blob)) {
            return fail(QStringLiteral("io.write-failed"),
                        QObject::tr("The bundle could not be moved to %1.").arg(blob));
        }
    } else if (auto copied = copyFile(bundlePath, blob, control); !copied) {
        return fail(copied.error());
    }
    store::ReleaseRecord record;
    record.id = *id;
    record.product = report.product;
    record.version = report.version;
    record.securityVersion = report.securityVersion;
    record.hardware = report.hardware;
    record.size = QFileInfo(blob).size();
    record.fileName = ours ? QStringLiteral("%1-%2.otab").arg(report.product, report.version)
                           : QFileInfo(bundlePath).fileName();
    record.blobPath = blob;
    if (auto reader = bundle::BundleReader::open(blob))
        record.manifestJson = reader->manifestBytes();
    for (const BundleSignerInfo& s : report.signers)
        record.signers << s.subject;
    record.uploadedBy = places.user;
    record.uploaded = QDateTime::currentDateTimeUtc();
    record.notes = notes;
    if (auto added = (*store)->releases().add(record); !added) {
        QFile::remove(blob);
        return fail(added.error());
    }
    if (auto ok = audit(**store, places, *id, QStringLiteral("release.import"),
                        QStringLiteral("%1 %2").arg(record.product, record.version));
        !ok) {
        return fail(ok.error());
    }
    return *id;
}

Status revoke(const Places& places, const QString& id, const QString& reason) {
    auto store = openStore(places);
    if (!store)
        return fail(store.error());
    if (auto ok = (*store)->releases().revoke(id, QDateTime::currentDateTimeUtc()); !ok)
        return ok;
    return audit(**store, places, id, QStringLiteral("release.revoke"), reason);
}

Status setNotes(const Places& places, const QString& id, const QString& notes) {
    auto store = openStore(places);
    if (!store)
        return fail(store.error());
    if (auto ok = (*store)->releases().setNotes(id, notes); !ok)
        return ok;
    return audit(**store, places, id, QStringLiteral("release.notes"),
                 QStringLiteral("%1 characters").arg(notes.size()));
}

BundleReport inspect(const Places& places, const QString& id) {
    BundleReport report;
    auto store = openStore(places);
    if (!store) {
        report.verdict = BundleReport::Verdict::Refused;
        report.error = store.error();
        return report;
    }
    auto record = (*store)->releases().get(id);
    if (!record) {
        report.verdict = BundleReport::Verdict::Refused;
        report.error = record.error();
        return report;
    }
    BundleCheck check;
    check.bundlePath = record->blobPath;
    check.trustPemPath = QDir(places.pkiDir).filePath(QStringLiteral("root-ca.pem"));
    check.deviceClass = DeviceClass::Linux;
    return inspectBundle(check);
}

}  // namespace otafleet::fleet::release
