// The fleet's hash-chained audit log as the console's audit view sees it: the entries that match
// a filter (actor, action, subject, a time range, free text) and a verification of the chain that
// names the first altered entry, as `otafleetctl audit verify` does. EmbeddedAudit reads the
// console's own SQLite store (and appends what the embedded fleet changes); RemoteAudit asks
// otafleetd (ListAudit, VerifyAudit). Both work on a thread of their own: a request returns its
// number at once and ends with one entriesReady(), verified() or requestFailed() carrying it.
//
// Neither otafleetd nor the store filters the log, so the filter is applied while paging through
// it (fleet-side, off the GUI thread); at most kMaxShown matches are kept, the newest ones.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <optional>

namespace otafleet::fleet {

struct AuditRecord {
    qint64 id = 0;
    QDateTime time;  // UTC
    QString actor;
    QString subject;
    QString action;
    QString detail;
    QString prevHash;
    QString entryHash;

    friend bool operator==(const AuditRecord&, const AuditRecord&) = default;
};

// Every text criterion is a case-insensitive substring; an empty one matches everything. `from`
// and `to` (inclusive) bound the entry's time where they are valid; `text` looks in every field.
struct AuditFilter {
    QString actor;
    QString action;
    QString subject;
    QString text;
    QDateTime from;
    QDateTime to;

    [[nodiscard]] bool matches(const AuditRecord& entry) const;
    [[nodiscard]] bool isEmpty() const;
};

struct AuditEntries {
    QList<AuditRecord> entries;  // oldest first
    qint64 scanned = 0;          // entries in the log looked at
    bool truncated = false;      // more matched than kMaxShown: the oldest were left out
};

struct AuditCheck {
    bool intact = true;
    qint64 entries = 0;
    qint64 firstBadId = 0;  // 0 when intact
    QString reason;         // "Audit entry 17 was altered: ..." (empty when intact)

    // One sentence for the view: "The audit log is intact: 42 entries, each chained to the one
    // before." or the reason with what to do.
    [[nodiscard]] QString sentence() const;
};

// Pages through a log with `page(afterId, limit)` (oldest first; an empty page ends it) and keeps
// the newest `maxShown` entries that `filter` matches. The shared loop of both implementations.
template <typename PageFn>
[[nodiscard]] Result<AuditEntries> collectAudit(PageFn&& page, const AuditFilter& filter,
                                                int pageSize, qsizetype maxShown);

// The shown entries as CSV (id, time, actor, action, subject, detail, prev_hash, entry_hash; time
// ISO 8601 UTC; common/Csv.h guards text from outside) or as JSON ({"entries": [...], "count": N},
// the keys `otafleetctl audit export` writes).
[[nodiscard]] QByteArray auditCsv(const QList<AuditRecord>& entries);
[[nodiscard]] QByteArray auditJson(const QList<AuditRecord>& entries);
// Either, by the file name's suffix (.json, else CSV), written atomically. Error io.write-failed.
[[nodiscard]] Status writeAuditExport(const QString& path, const QList<AuditRecord>& entries);

class AuditService : public QObject {
    Q_OBJECT
public:
    static constexpr qsizetype kMaxShown = 10000;
    static constexpr int kPageSize = 1000;

    ~AuditService() override;

    virtual quint64 requestEntries(const AuditFilter& filter) = 0;
    virtual quint64 requestVerify() = 0;
    // Why the signed-in user may not read the audit log (their role on a server), as a sentence
    // for the view; none when they may. Embedded fleets allow it.
    [[nodiscard]] virtual std::optional<QString> readBlocker() const;

Q_SIGNALS:
    void entriesReady(quint64 request, const otafleet::fleet::AuditEntries& entries);
    void verified(quint64 request, const otafleet::fleet::AuditCheck& check);
    void requestFailed(quint64 request, const otafleet::Error& error);
    // New entries may be there (the fleet changed something), or readBlocker() changed.
    void logChanged();
    void permissionsChanged();

protected:
    explicit AuditService(QObject* parent = nullptr);
};

template <typename PageFn>
Result<AuditEntries> collectAudit(PageFn&& page, const AuditFilter& filter, int pageSize,
                                  qsizetype maxShown) {
    AuditEntries out;
    qint64 after = 0;
    for (;;) {
        Result<QList<AuditRecord>> got = page(after, pageSize);
        if (!got)
            return std::unexpected(got.error());
        for (AuditRecord& e : *got) {
            ++out.scanned;
            after = e.id;
            if (filter.matches(e))
                out.entries.append(std::move(e));
        }
        if (out.entries.size() > maxShown) {
            out.truncated = true;
            out.entries.remove(0, out.entries.size() - maxShown);
        }
        if (got->size() < pageSize)
            return out;
    }
}

}  // namespace otafleet::fleet

Q_DECLARE_METATYPE(otafleet::fleet::AuditEntries)
Q_DECLARE_METATYPE(otafleet::fleet::AuditCheck)
