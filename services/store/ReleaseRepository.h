// Releases otafleetd holds: the verified bundle's metadata (from its signed manifest) and where
// its bytes lie in the blob directory. The id is the bundle file's SHA-256, so uploading the same
// bundle twice finds the first upload.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

namespace otafleet::store {

struct ReleaseRecord {
    QString id;  // hex SHA-256 of the bundle file
    QString product;
    QString version;
    quint64 securityVersion = 0;
    QStringList hardware;
    qint64 size = 0;
    QString fileName;
    QString blobPath;
    QByteArray manifestJson;
    QStringList signers;  // subjects
    QString uploadedBy;
    QDateTime uploaded;
    bool revoked = false;
    QDateTime revokedAt;  // invalid unless revoked
    // Notes kept beside the release, editable after signing (the signed manifest has its own).
    QString notes;
};

class ReleaseRepository {
public:
    explicit ReleaseRepository(QString connectionName);

    // Errors store.duplicate (same id).
    [[nodiscard]] Status add(const ReleaseRecord& release);
    // Errors store.not-found.
    [[nodiscard]] Result<ReleaseRecord> get(const QString& id) const;
    // Newest first.
    [[nodiscard]] Result<QList<ReleaseRecord>> all() const;
    // Errors store.not-found, store.already-revoked.
    [[nodiscard]] Status revoke(const QString& id, const QDateTime& when);
    // Errors store.not-found, store.notes-too-long (longer than kMaxNotes).
    [[nodiscard]] Status setNotes(const QString& id, const QString& notes);

    static constexpr qsizetype kMaxNotes = 64 * 1024;

private:
    QString m_connectionName;
};

}  // namespace otafleet::store
