// Where bundles arrive: DIR/incoming/<transfer_id>.part, append-only, with the announced total in
// <transfer_id>.size. The received offset is the file's size, so after any interruption (even
// SIGKILL) a client resumes from exactly what is on disk and re-sends at most one chunk. At most
// kMaxStaged transfers are kept: starting another evicts the oldest, so abandoned uploads cannot
// fill the disk.
#pragma once

#include "common/Error.h"
#include "crypto/Sha256.h"

#include <QString>

#include <QSet>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

namespace otafleet::agent {

struct UploadProgress {
    quint64 received = 0;
    quint64 total = 0;  // 0 while unknown
    [[nodiscard]] bool complete() const { return total > 0 && received == total; }
};

class UploadStore {
public:
    static constexpr qsizetype kMaxChunk = 1024 * 1024;
    // The transfer being uploaded plus one complete bundle waiting for (or in) its install.
    static constexpr int kMaxStaged = 2;
    static constexpr std::chrono::hours kStaleAfter{24};

    UploadStore(QString directory, quint64 maxBundleSize);
    ~UploadStore();
    UploadStore(const UploadStore&) = delete;
    UploadStore& operator=(const UploadStore&) = delete;

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
    // fsync of the part file (end of a stream; the last chunk of a transfer syncs too). Chunks
    // are not synced one by one: what a power cut loses of an unsynced tail is caught by the
    // install's hash check, and SIGKILL loses nothing that write() returned.
    [[nodiscard]] Status sync(const QString& id);
    [[nodiscard]] QString partPath(const QString& id) const;
    void remove(const QString& id);
    // The SHA-256 of bytes [payloadStart, end) of a transfer this process received completely in
    // one contiguous run from offset 0, hashed as the chunks arrived, while its file is unchanged
    // since (inode, size, modification time); nullopt otherwise (resumed after a restart, or
    // touched): the install then hashes the staged file itself. Saves one read of the payload.
    [[nodiscard]] std::optional<QByteArray> receivedPayloadDigest(const QString& id,
                                                                  qint64 payloadStart) const;
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
    // The part file of the transfer being appended to, kept open between chunks (closed when
    // another transfer is appended to or it is removed): one write per chunk, no open/close.
    QString m_openId;
    int m_openFd = -1;
    quint64 m_openTotal = 0;
    void closeOpenLocked();

    // Hashing while receiving: the payload region is found from the container header in the
    // first bytes (bundle::parseFrameHeader) and hashed chunk by chunk.
    struct Receiving {
        QString id;
        qint64 next = 0;           // the offset the next chunk must start at
        qint64 payloadStart = -1;  // unknown until the header is in
        QByteArray head;
        crypto::Sha256 hasher;
    };
    struct Received {
        QString id;
        qint64 payloadStart = 0;
        QByteArray digest;
        quint64 inode = 0;
        qint64 size = 0;
        qint64 modifiedNs = 0;
    };
    void hashReceivedLocked(const QString& id, quint64 offset, QByteArrayView data, quint64 total);
    std::unique_ptr<Receiving> m_receiving;
    std::optional<Received> m_received;
};

}  // namespace otafleet::agent
