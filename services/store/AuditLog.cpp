#include "store/AuditLog.h"

#include "store/SqlDialect.h"
#include "store/SqlError.h"

#include <QCryptographicHash>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace otafleet::store {
namespace {

const QString kColumns =
    QStringLiteral("id, time_ms, actor, subject, action, detail, prev_hash, entry_hash");

AuditEntry readEntry(const QSqlQuery& q) {
    AuditEntry e;
    e.id = q.value(0).toLongLong();
    e.time = QDateTime::fromMSecsSinceEpoch(q.value(1).toLongLong(), Qt::UTC);
    e.actor = q.value(2).toString();
    e.subject = q.value(3).toString();
    e.action = q.value(4).toString();
    e.detail = q.value(5).toString();
    e.prevHash = q.value(6).toString();
    e.entryHash = q.value(7).toString();
    return e;
}

void addField(QCryptographicHash& hash, const QByteArray& bytes) {
    const QByteArray length = QByteArray::number(bytes.size());
    hash.addData(length);
    hash.addData(QByteArrayView(":"));
    hash.addData(bytes);
}

}  // namespace

AuditLog::AuditLog(QString connectionName) : m_connectionName(std::move(connectionName)) {}

QString AuditLog::hashOf(const AuditEntry& e) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    addField(hash, QByteArrayLiteral("otafleet-audit-v1"));
    addField(hash, e.prevHash.toLatin1());
    addField(hash, QByteArray::number(e.id));
    addField(hash, QByteArray::number(e.time.toMSecsSinceEpoch()));
    addField(hash, e.actor.toUtf8());
    addField(hash, e.subject.toUtf8());
    addField(hash, e.action.toUtf8());
    addField(hash, e.detail.toUtf8());
    return QString::fromLatin1(hash.result().toHex());
}

Result<AuditEntry> AuditLog::append(const QString& actor, const QString& subject,
                                    const QString& action, const QString& detail,
                                    const QDateTime& time) {
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    // The write lock is taken before reading the chain's tail.
    const SqlBackend backend = backendOf(db);
    QSqlQuery query(db);
    for (const QString& statement : beginWriteLocked(backend, QStringLiteral("audit"))) {
        if (!query.exec(statement)) {
            const Error error = sqlError(QStringLiteral("start an audit entry"), query.lastError());
            QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
            return fail(error);
        }
    }
    const auto rollback = [&db] { QSqlQuery(db).exec(QStringLiteral("ROLLBACK")); };
    AuditEntry e;
    e.time = QDateTime::fromMSecsSinceEpoch(time.toMSecsSinceEpoch(), Qt::UTC);
    e.actor = actor.left(kMaxFieldLength);
    e.subject = subject.left(kMaxFieldLength);
    e.action = action.left(kMaxFieldLength);
    e.detail = detail.left(kMaxDetailLength);
    if (!query.exec(QStringLiteral("SELECT entry_hash, (SELECT COALESCE(MAX(id), 0) FROM audit),"
                                   " (%1) FROM audit ORDER BY id DESC LIMIT 1")
                        .arg(highWaterQuery(backend, QStringLiteral("audit"))))) {
        const Error error =
            sqlError(QStringLiteral("read the audit log's tail"), query.lastError());
        rollback();
        return fail(error);
    }
    qint64 lastId = 0;
    if (query.next()) {
        e.prevHash = query.value(0).toString();
        lastId = std::max(query.value(1).toLongLong(), query.value(2).toLongLong());
    }
    e.id = lastId + 1;
    e.entryHash = hashOf(e);
    query.prepare(
        QStringLiteral("INSERT INTO audit (%1) VALUES (?, ?, COALESCE(?, ''), COALESCE(?, ''), "
                       "COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), ?)")
            .arg(kColumns));
    query.addBindValue(e.id);
    query.addBindValue(e.time.toMSecsSinceEpoch());
    query.addBindValue(e.actor);
    query.addBindValue(e.subject);
    query.addBindValue(e.action);
    query.addBindValue(e.detail);
    query.addBindValue(e.prevHash);
    query.addBindValue(e.entryHash);
    if (auto ok = exec(query, QStringLiteral("append to the audit log")); !ok) {
        rollback();
        return fail(ok.error());
    }
    if (const QString raise = raiseHighWater(backend, QStringLiteral("audit")); !raise.isEmpty()) {
        query.prepare(raise);
        query.addBindValue(e.id);
        if (auto ok = exec(query, QStringLiteral("append to the audit log")); !ok) {
            rollback();
            return fail(ok.error());
        }
    }
    if (!query.exec(QStringLiteral("COMMIT"))) {
        const Error error = sqlError(QStringLiteral("finish an audit entry"), query.lastError());
        rollback();
        return fail(error);
    }
    return e;
}

Result<QList<AuditEntry>> AuditLog::list(qint64 afterId, int limit) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT %1 FROM audit WHERE id > ? ORDER BY id LIMIT ?").arg(kColumns));
    query.addBindValue(afterId);
    query.addBindValue(std::clamp(limit, 1, kMaxPage));
    if (auto ok = exec(query, QStringLiteral("read the audit log")); !ok)
        return fail(ok.error());
    QList<AuditEntry> entries;
    while (query.next())
        entries.append(readEntry(query));
    return entries;
}

Result<qint64> AuditLog::count() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    if (!query.exec(QStringLiteral("SELECT COUNT(*) FROM audit")) || !query.next())
        return fail(sqlError(QStringLiteral("count the audit log"), query.lastError()));
    return query.value(0).toLongLong();
}

Result<AuditVerdict> AuditLog::verify() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM audit ORDER BY id").arg(kColumns));
    if (auto ok = exec(query, QStringLiteral("read the audit log")); !ok)
        return fail(ok.error());
    AuditVerdict verdict;
    QString previous;
    qint64 previousId = 0;
    while (query.next()) {
        const AuditEntry e = readEntry(query);
        ++verdict.entries;
        QString reason;
        if (e.prevHash != previous) {
            reason = previousId == 0 ? QStringLiteral("the first entry does not start the chain")
                                     : QStringLiteral(
                                           "it does not follow entry %1 (an entry before it was "
                                           "changed, inserted or deleted)")
                                           .arg(previousId);
        } else if (e.id != previousId + 1) {
            reason =
                QStringLiteral("entries %1 to %2 are missing").arg(previousId + 1).arg(e.id - 1);
        } else if (hashOf(e) != e.entryHash) {
            reason = QStringLiteral("its content no longer matches its hash");
        }
        if (!reason.isEmpty()) {
            verdict.intact = false;
            verdict.firstBadId = e.id;
            verdict.reason =
                QStringLiteral("Audit entry %1 was altered: %2.").arg(e.id).arg(reason);
            return verdict;
        }
        previous = e.entryHash;
        previousId = e.id;
    }
    // The database remembers the largest id ever handed out: entries cut from the end show
    // there.
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    QSqlQuery sequence(db);
    if (sequence.exec(highWaterQuery(backendOf(db), QStringLiteral("audit"))) && sequence.next() &&
        sequence.value(0).toLongLong() > previousId) {
        verdict.intact = false;
        verdict.firstBadId = previousId + 1;
        verdict.reason = QStringLiteral(
                             "Audit entry %1 was altered: it and the entries after it "
                             "were deleted.")
                             .arg(previousId + 1);
    }
    return verdict;
}

}  // namespace otafleet::store
