#include "fleet/AuditService.h"

#include "common/AtomicFile.h"
#include "common/Csv.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace otafleet::fleet {
namespace {

bool contains(const QString& field, const QString& part) {
    return part.isEmpty() || field.contains(part, Qt::CaseInsensitive);
}

QString isoTime(const QDateTime& time) {
    return time.toUTC().toString(Qt::ISODateWithMs);
}

}  // namespace

bool AuditFilter::matches(const AuditRecord& e) const {
    if (from.isValid() && e.time < from)
        return false;
    if (to.isValid() && e.time > to)
        return false;
    if (!contains(e.actor, actor.trimmed()) || !contains(e.action, action.trimmed()) ||
        !contains(e.subject, subject.trimmed()))
        return false;
    const QString words = text.trimmed();
    return words.isEmpty() || contains(e.actor, words) || contains(e.action, words) ||
           contains(e.subject, words) || contains(e.detail, words) ||
           QString::number(e.id) == words;
}

bool AuditFilter::isEmpty() const {
    return actor.trimmed().isEmpty() && action.trimmed().isEmpty() && subject.trimmed().isEmpty() &&
           text.trimmed().isEmpty() && !from.isValid() && !to.isValid();
}

QString AuditCheck::sentence() const {
    if (intact) {
        return entries == 0 ? QStringLiteral("The audit log is empty; nothing to verify yet.")
                            : QStringLiteral(
                                  "The audit log is intact: %1 entries, each chained "
                                  "to the one before.")
                                  .arg(entries);
    }
    return reason +
           QStringLiteral(" Restore the database from a backup and find out who had access to it.");
}

QByteArray auditCsv(const QList<AuditRecord>& entries) {
    const QStringList header{QStringLiteral("id"),        QStringLiteral("time"),
                             QStringLiteral("actor"),     QStringLiteral("action"),
                             QStringLiteral("subject"),   QStringLiteral("detail"),
                             QStringLiteral("prev_hash"), QStringLiteral("entry_hash")};
    QList<QStringList> rows;
    rows.reserve(entries.size());
    for (const AuditRecord& e : entries) {
        rows.append({QString::number(e.id), isoTime(e.time), e.actor, e.action, e.subject, e.detail,
                     e.prevHash, e.entryHash});
    }
    return csvDocument(header, rows);
}

QByteArray auditJson(const QList<AuditRecord>& entries) {
    QJsonArray list;
    for (const AuditRecord& e : entries) {
        list.append(QJsonObject{{QStringLiteral("id"), double(e.id)},
                                {QStringLiteral("time"), isoTime(e.time)},
                                {QStringLiteral("actor"), e.actor},
                                {QStringLiteral("subject"), e.subject},
                                {QStringLiteral("action"), e.action},
                                {QStringLiteral("detail"), e.detail},
                                {QStringLiteral("prev_hash"), e.prevHash},
                                {QStringLiteral("entry_hash"), e.entryHash}});
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("entries"), list},
                                     {QStringLiteral("count"), list.size()}})
        .toJson();
}

Status writeAuditExport(const QString& path, const QList<AuditRecord>& entries) {
    const bool json = path.endsWith(QStringLiteral(".json"), Qt::CaseInsensitive);
    return writeFileAtomically(path, json ? auditJson(entries) : auditCsv(entries));
}

AuditService::AuditService(QObject* parent) : QObject(parent) {
    qRegisterMetaType<AuditEntries>();
    qRegisterMetaType<AuditCheck>();
    qRegisterMetaType<Error>();
}

AuditService::~AuditService() = default;

std::optional<QString> AuditService::readBlocker() const {
    return std::nullopt;
}

}  // namespace otafleet::fleet
