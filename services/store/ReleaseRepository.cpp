#include "store/ReleaseRepository.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

namespace otafleet::store {
namespace {

const QString kColumns = QStringLiteral(
    "id, product, version, security_version, hardware, size, file_name, blob_path, manifest,"
    " signers, uploaded_by, uploaded_ms, revoked, revoked_ms, notes");

ReleaseRecord readRelease(const QSqlQuery& q) {
    ReleaseRecord r;
    r.id = q.value(0).toString();
    r.product = q.value(1).toString();
    r.version = q.value(2).toString();
    r.securityVersion = q.value(3).toULongLong();
    r.hardware = q.value(4).toString().split(u',', Qt::SkipEmptyParts);
    r.size = q.value(5).toLongLong();
    r.fileName = q.value(6).toString();
    r.blobPath = q.value(7).toString();
    r.manifestJson = q.value(8).toString().toUtf8();
    r.signers = q.value(9).toString().split(u'\n', Qt::SkipEmptyParts);
    r.uploadedBy = q.value(10).toString();
    r.uploaded = QDateTime::fromMSecsSinceEpoch(q.value(11).toLongLong(), Qt::UTC);
    r.revoked = q.value(12).toInt() != 0;
    if (r.revoked)
        r.revokedAt = QDateTime::fromMSecsSinceEpoch(q.value(13).toLongLong(), Qt::UTC);
    r.notes = q.value(14).toString();
    return r;
}

std::unexpected<Error> notFound(const QString& id) {
    return fail(
        QStringLiteral("store.not-found"),
        QStringLiteral("There is no release %1; 'otafleetctl release list' shows them.").arg(id));
}

}  // namespace

ReleaseRepository::ReleaseRepository(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

Status ReleaseRepository::add(const ReleaseRecord& r) {
    if (auto existing = get(r.id); existing) {
        return fail(QStringLiteral("store.duplicate"),
                    QStringLiteral("This bundle was uploaded already as release %1 (%2 %3).")
                        .arg(r.id, existing->product, existing->version));
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(
        QStringLiteral(
            "INSERT INTO releases (%1) VALUES (?, COALESCE(?, ''), COALESCE(?, ''), ?, COALESCE(?, "
            "''), ?, COALESCE(?, ''), "
            "COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), ?, 0, 0, "
            "COALESCE(?, ''))")
            .arg(kColumns));
    query.addBindValue(r.id);
    query.addBindValue(r.product);
    query.addBindValue(r.version);
    query.addBindValue(static_cast<qint64>(r.securityVersion));
    query.addBindValue(r.hardware.join(u','));
    query.addBindValue(r.size);
    query.addBindValue(r.fileName);
    query.addBindValue(r.blobPath);
    query.addBindValue(QString::fromUtf8(r.manifestJson));
    query.addBindValue(r.signers.join(u'\n'));
    query.addBindValue(r.uploadedBy);
    query.addBindValue(
        (r.uploaded.isValid() ? r.uploaded : QDateTime::currentDateTimeUtc()).toMSecsSinceEpoch());
    query.addBindValue(r.notes);
    return exec(query, QStringLiteral("record a release"));
}

Result<ReleaseRecord> ReleaseRepository::get(const QString& id) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT %1 FROM releases WHERE id = ?").arg(kColumns));
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("read a release")); !ok)
        return fail(ok.error());
    if (!query.next())
        return notFound(id);
    return readRelease(query);
}

Result<QList<ReleaseRecord>> ReleaseRepository::all() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT %1 FROM releases ORDER BY uploaded_ms DESC, id").arg(kColumns));
    if (auto ok = exec(query, QStringLiteral("list the releases")); !ok)
        return fail(ok.error());
    QList<ReleaseRecord> releases;
    while (query.next())
        releases.append(readRelease(query));
    return releases;
}

Status ReleaseRepository::revoke(const QString& id, const QDateTime& when) {
    auto existing = get(id);
    if (!existing)
        return fail(existing.error());
    if (existing->revoked) {
        return fail(QStringLiteral("store.already-revoked"),
                    QStringLiteral("Release %1 was revoked already.").arg(id));
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE releases SET revoked = 1, revoked_ms = ? WHERE id = ?"));
    query.addBindValue(when.toMSecsSinceEpoch());
    query.addBindValue(id);
    return exec(query, QStringLiteral("revoke a release"));
}

Status ReleaseRepository::setNotes(const QString& id, const QString& notes) {
    if (notes.size() > kMaxNotes) {
        return fail(QStringLiteral("store.notes-too-long"),
                    QStringLiteral("Release notes can be at most 64 KiB of text; shorten them."));
    }
    if (auto existing = get(id); !existing)
        return fail(existing.error());
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE releases SET notes = ? WHERE id = ?"));
    query.addBindValue(notes);
    query.addBindValue(id);
    return exec(query, QStringLiteral("save a release's notes"));
}

}  // namespace otafleet::store
