#include "store/DeviceRepository.h"

#include "store/SqlError.h"

#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

namespace otafleet::store {

namespace {

const QString kColumns = QStringLiteral(
    "id, uri, display_name, snapshot, last_seen_ms, last_error_code, last_error_message, added_ms");

DeviceRecord readRecord(const QSqlQuery& query) {
    DeviceRecord r;
    r.id = query.value(0).toLongLong();
    r.uri = query.value(1).toString();
    r.displayName = query.value(2).toString();
    r.snapshotJson = query.value(3).toString().toUtf8();
    if (!query.value(4).isNull())
        r.lastSeen = QDateTime::fromMSecsSinceEpoch(query.value(4).toLongLong(), Qt::UTC);
    r.lastErrorCode = query.value(5).toString();
    r.lastErrorMessage = query.value(6).toString();
    r.added = QDateTime::fromMSecsSinceEpoch(query.value(7).toLongLong(), Qt::UTC);
    return r;
}

}  // namespace

DeviceRepository::DeviceRepository(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

Status DeviceRepository::expectOneRow(qint64 id, int rowsAffected) const {
    if (rowsAffected == 1)
        return {};
    return fail(
        QStringLiteral("store.not-found"),
        QStringLiteral("Device %1 is not in the fleet (it may have been removed).").arg(id));
}

Result<qint64> DeviceRepository::add(const QString& uri, const QString& displayName) {
    if (uri.isEmpty() || uri.size() > 2048 || displayName.size() > kMaxNameLength) {
        return fail(QStringLiteral("store.invalid-input"),
                    QStringLiteral("A device needs an address of at most 2048 characters and a "
                                   "name of at most %1.")
                        .arg(kMaxNameLength));
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT display_name FROM devices WHERE uri = ?"));
    query.addBindValue(uri);
    if (auto ok = exec(query, QStringLiteral("look up a device")); !ok)
        return fail(ok.error());
    if (query.next()) {
        return fail(QStringLiteral("store.duplicate"),
                    QStringLiteral("%1 is already in the fleet as \"%2\".")
                        .arg(uri, query.value(0).toString()));
    }
    query.prepare(QStringLiteral(
        "INSERT INTO devices (uri, display_name, added_ms) VALUES (?, COALESCE(?, ''), ?)"));
    query.addBindValue(uri);
    query.addBindValue(displayName);
    query.addBindValue(QDateTime::currentMSecsSinceEpoch());
    if (auto ok = exec(query, QStringLiteral("add a device")); !ok)
        return fail(ok.error());
    return query.lastInsertId().toLongLong();
}

Result<DeviceRecord> DeviceRepository::get(qint64 id) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT %1 FROM devices WHERE id = ?").arg(kColumns));
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("read a device")); !ok)
        return fail(ok.error());
    if (!query.next())
        return fail(expectOneRow(id, 0).error());
    return readRecord(query);
}

Result<QList<DeviceRecord>> DeviceRepository::all() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM devices ORDER BY id").arg(kColumns));
    if (auto ok = exec(query, QStringLiteral("list the devices")); !ok)
        return fail(ok.error());
    QList<DeviceRecord> records;
    while (query.next())
        records.append(readRecord(query));
    return records;
}

Status DeviceRepository::rename(qint64 id, const QString& displayName) {
    if (displayName.size() > kMaxNameLength) {
        return fail(
            QStringLiteral("store.invalid-input"),
            QStringLiteral("A device name can have at most %1 characters.").arg(kMaxNameLength));
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE devices SET display_name = COALESCE(?, '') WHERE id = ?"));
    query.addBindValue(displayName);
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("rename a device")); !ok)
        return ok;
    return expectOneRow(id, query.numRowsAffected());
}

Status DeviceRepository::recordSnapshot(qint64 id, const QByteArray& snapshotJson,
                                        const QDateTime& seen) {
    if (snapshotJson.size() > kMaxSnapshotBytes) {
        return fail(QStringLiteral("store.invalid-input"),
                    QStringLiteral("A device report of %1 bytes is too large to store.")
                        .arg(snapshotJson.size()));
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE devices SET snapshot = ?, last_seen_ms = ? WHERE id = ?"));
    query.addBindValue(QString::fromUtf8(snapshotJson));
    query.addBindValue(seen.toMSecsSinceEpoch());
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("save a device report")); !ok)
        return ok;
    return expectOneRow(id, query.numRowsAffected());
}

Status DeviceRepository::recordError(qint64 id, const QString& code, const QString& message) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(
        QStringLiteral("UPDATE devices SET last_error_code = COALESCE(?, ''), last_error_message = "
                       "COALESCE(?, '') "
                       "WHERE id = ?"));
    query.addBindValue(code);
    query.addBindValue(message.left(4096));
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("save a device error")); !ok)
        return ok;
    return expectOneRow(id, query.numRowsAffected());
}

Status DeviceRepository::clearError(qint64 id) {
    return recordError(id, QString(), QString());
}

Status DeviceRepository::remove(qint64 id) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("DELETE FROM devices WHERE id = ?"));
    query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("remove a device")); !ok)
        return ok;
    return expectOneRow(id, query.numRowsAffected());
}

}  // namespace otafleet::store
