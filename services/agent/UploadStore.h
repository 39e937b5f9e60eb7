// Where bundles arrive: DIR/incoming/<transfer_id>.part, append-only, with the announced total in
// <transfer_id>.size. The received offset is the file's size, so after any interruption (even
// SIGKILL) a client resumes from exactly what is on disk and re-sends at most one chunk. At most
// kMaxStaged transfers are kept: starting another evicts the oldest, so abandoned uploads cannot
// fill the disk.
// A part file is never fsynced: the payload reaches the disk once, when the install copies it
// into the slot and syncs that. SIGKILL loses nothing write() returned (the page cache holds it);
// what a power cut loses of an unsynced part file the install's hash check finds
// (agent.staging-damaged: discarded, sent again), and a part file the install removes within the
// kernel's writeback delay is never written to the disk at all.
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
    // Set by the append that completes a transfer: how long this process spent hashing the
    // payload as it arrived (telemetry: the push's hash phase, inside its transfer).
    std::chrono::nanoseconds hashTime{0};
    [[nodiscard]] bool complete() const { return total > 0 && received == total; }
};

// A staged bundle opened for its install: the descriptor the slot copy reads from, and the
// file's identity (inode, size, modification time) when it was opened, so the bytes copied into a
// slot are provably the ones whose hash was checked.
class StagedFile {
public:
    StagedFile() = default;
    ~StagedFile();
    StagedFile(StagedFile&& other) noexcept;
    StagedFile& operator=(StagedFile&& other) noexcept;
    StagedFile(const StagedFile&) = delete;
    StagedFile& operator=(const StagedFile&) = delete;

    [[nodiscard]] int fd() const { return m_fd; }
    // False once the file was written, truncated or replaced since it was opened.
    [[nodiscard]] bool unchanged() const;

private:
    friend class UploadStore;
    int m_fd = -1;
    quint64 m_inode = 0;
    qint64 m_size = 0;
    qint64 m_modifiedNs = 0;
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
    // End of an upload stream: closes the part file's descriptor (nothing is synced, see above).
    void release(const QString& id);
    [[nodiscard]] QString partPath(const QString& id) const;
    void remove(const QString& id);
    // Opens a transfer's part file for its install. Error io.read-failed.
    [[nodiscard]] Result<StagedFile> openStaged(const QString& id) const;
    // The SHA-256 of bytes [payloadStart, end) of a transfer this process received completely in
    // one contiguous run from offset 0, hashed as the chunks arrived, when `staged` (opened
    // since) is that very file, unchanged (inode, size, modification time); nullopt otherwise
    // (resumed after a restart, or touched): the install then hashes the staged file itself.
    // Saves one read of the payload.
    [[nodiscard]] std::optional<QByteArray> receivedPayloadDigest(const StagedFile& staged,
                                                                  const QString& id,
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
        std::chrono::nanoseconds hashTime{0};
    };
    struct Received {
        QString id;
        qint64 payloadStart = 0;
        QByteArray digest;
        quint64 inode = 0;
        qint64 size = 0;
        qint64 modifiedNs = 0;
    };
    // The time spent hashing this chunk's payload bytes once the transfer is complete, else 0.
    std::chrono::nanoseconds hashReceivedLocked(const QString& id, quint64 offset,
                                                QByteArrayView data, quint64 total);
    std::unique_ptr<Receiving> m_receiving;
    std::optional<Received> m_received;
};

}  // namespace otafleet::agent
