// Where bundles arrive: DIR/incoming/<transfer_id>.part, append-only, with the announced total in
// <transfer_id>.size. The received offset is the file's size, so after any interruption (even
// SIGKILL) a client resumes from exactly what is on disk and re-sends at most one chunk. At most
// kMaxStaged transfers are kept: starting another evicts the oldest, so abandoned uploads cannot
// fill the disk.
#pragma once

#include "common/Error.h"

#include <QString>

#include <QSet>

#include <chrono>
#include <mutex>

namespace otafleet::agent {

struct UploadProgress {
    quint64 received = 0;
    quint64 total = 0;  // 0 while unknown
    [[nodiscard]] bool complete() const { return total > 0 && received == total; }
};

class UploadStore {
public:
    static constexpr qsizetype kMaxChunk = 1024 * 1024;
    static constexpr quint64 kSyncEvery = 4 * 1024 * 1024;
    // The transfer being uploaded plus one complete bundle waiting for (or in) its install.
    static constexpr int kMaxStaged = 2;
    static constexpr std::chrono::hours kStaleAfter{24};

    UploadStore(QString directory, quint64 maxBundleSize);

    // Error agent.invalid-transfer-id for anything but [a-z0-9-]{1,64}.
    [[nodiscard]] static Status checkTransferId(const QString& id);
    [[nodiscard]] Result<UploadProgress> progress(const QString& id) const;
    // Appends `data` at `offset`, which must equal the received offset (error
    // agent.upload-offset-mismatch naming the offset to resume from). `totalSize` is required
    // when the transfer starts (offset 0) and must not change later. Errors:
    // agent.bundle-too-large, agent.disk-full, agent.chunk-too-large, io.write-failed.
    // Starting a transfer evicts the oldest others beyond kMaxStaged (never a pinned one), and
    // the free space must hold it plus what the kept transfers still announce.
    [[nodiscard]] Result<UploadProgress> append(const QString& id, quint64 totalSize,
                                                quint64 offset, QByteArrayView data);
    // fsync of the part file (end of a stream).
    [[nodiscard]] Status sync(const QString& id);
    [[nodiscard]] QString partPath(const QString& id) const;
    void remove(const QString& id);
    // A pinned transfer (one being installed) is never evicted.
    void pin(const QString& id);
    void unpin(const QString& id);
    // At agent start: deletes transfers untouched for kStaleAfter and all but the newest
    // kMaxStaged - 1, so one interrupted upload can still resume.
    void removeStale();

private:
    struct Staged {
        QString id;
        quint64 received = 0;
        quint64 total = 0;
        qint64 modifiedMs = 0;
    };
    [[nodiscard]] QString sizePath(const QString& id) const;
    [[nodiscard]] UploadProgress progressLocked(const QString& id) const;
    [[nodiscard]] QList<Staged> stagedLocked() const;  // newest first
    void removeLocked(const QString& id);
    QSet<QString> m_pinned;
    QString m_dir;
    quint64 m_maxBundleSize;
    mutable std::mutex m_mutex;
    quint64 m_unsynced = 0;
};

}  // namespace otafleet::agent
