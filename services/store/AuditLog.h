// The hash-chained audit log: every state change otafleetd makes (and every refusal) is appended
// with actor, time, subject, action and detail, and a SHA-256 over those fields and the previous
// entry's hash. Changing, inserting or deleting a row breaks the chain from that row on, and
// verify() names the first entry that no longer fits.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace otafleet::store {

struct AuditEntry {
    qint64 id = 0;
    QDateTime time;
    QString actor;    // user name, "device:ID" or "system"
    QString subject;  // what was acted on: "user:alice", "release:ab12..", "device:..."
    QString action;   // "user.add", "release.upload", "denied:release.upload", ...
    QString detail;
    QString prevHash;   // hex
    QString entryHash;  // hex
};

struct AuditVerdict {
    bool intact = true;
    qint64 entries = 0;
    qint64 firstBadId = 0;  // 0 when intact
    QString reason;
};

class AuditLog {
public:
    static constexpr qsizetype kMaxFieldLength = 256;
    static constexpr qsizetype kMaxDetailLength = 4096;
    static constexpr int kMaxPage = 1000;

    explicit AuditLog(QString connectionName);

    // Appends in one transaction with reading the previous hash, so concurrent writers (several
    // store connections) cannot fork the chain. Over-long fields are cut, never refused: an
    // audit entry must not be lost to its own size.
    [[nodiscard]] Result<AuditEntry> append(
        const QString& actor, const QString& subject, const QString& action, const QString& detail,
        const QDateTime& time = QDateTime::currentDateTimeUtc());
    // Entries with id > afterId, oldest first, at most `limit` (1..kMaxPage).
    [[nodiscard]] Result<QList<AuditEntry>> list(qint64 afterId, int limit) const;
    [[nodiscard]] Result<qint64> count() const;
    [[nodiscard]] Result<AuditVerdict> verify() const;

    // The hash an entry must carry (hex SHA-256 over prevHash and the fields, length-prefixed).
    [[nodiscard]] static QString hashOf(const AuditEntry& entry);

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
