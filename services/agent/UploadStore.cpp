#include "agent/UploadStore.h"

#include "agent/Logging.h"
#include "bundle/Bundle.h"
#include "common/AtomicFile.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace otafleet::agent {
namespace {

qint64 modifiedNs(const struct stat& st) {
    return qint64(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::unexpected<Error> ioFailed(const QString& what, const QString& path) {
    return fail(QStringLiteral("io.write-failed"),
                QStringLiteral("Could not %1 %2 (%3); check the agent's disk.")
                    .arg(what, path, QString::fromLocal8Bit(std::strerror(errno))));
}

}  // namespace

UploadStore::UploadStore(QString directory, quint64 maxBundleSize)
    : m_dir(std::move(directory)), m_maxBundleSize(maxBundleSize) {}

UploadStore::~UploadStore() {
    closeOpenLocked();
}

void UploadStore::closeOpenLocked() {
    if (m_openFd >= 0)
        ::close(m_openFd);
    m_openFd = -1;
    m_openId.clear();
    m_openTotal = 0;
}

Status UploadStore::checkTransferId(const QString& id) {
    const bool ok =
        !id.isEmpty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](QChar c) {
            return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'-';
        });
    if (!ok) {
        return fail(QStringLiteral("agent.invalid-transfer-id"),
                    QStringLiteral("The transfer id must be 1 to 64 characters of a-z, 0-9 and "
                                   "'-'; the client sent something else."));
    }
    return {};
}

QString UploadStore::partPath(const QString& id) const {
    return QDir(m_dir).filePath(id + QStringLiteral(".part"));
}
QString UploadStore::sizePath(const QString& id) const {
    return QDir(m_dir).filePath(id + QStringLiteral(".size"));
}

UploadProgress UploadStore::progressLocked(const QString& id) const {
    UploadProgress p;
    const QFileInfo part(partPath(id));
    if (!part.exists())
        return p;
    p.received = static_cast<quint64>(part.size());
    auto total = readFileBounded(sizePath(id), 32);
    if (total)
        p.total = total->trimmed().toULongLong();
    return p;
}

Result<UploadProgress> UploadStore::progress(const QString& id) const {
    if (auto ok = checkTransferId(id); !ok)
        return fail(ok.error());
    std::lock_guard lock(m_mutex);
    // The transfer being received (asked about while chunks are in flight): its open file says.
    struct stat st {};
    if (m_openId == id && ::fstat(m_openFd, &st) == 0)
        return UploadProgress{static_cast<quint64>(st.st_size), m_openTotal};
    return progressLocked(id);
}

QList<UploadStore::Staged> UploadStore::stagedLocked() const {
    QList<Staged> staged;
    const QFileInfoList files = QDir(m_dir).entryInfoList(
        {QStringLiteral("*.part"), QStringLiteral("*.size")}, QDir::Files);
    QSet<QString> ids;
    for (const QFileInfo& f : files) {
        const QString id = f.completeBaseName();
        if (!checkTransferId(id) || ids.contains(id))
            continue;
        ids.insert(id);
        const UploadProgress p = progressLocked(id);
        const QFileInfo part(partPath(id));
        const QFileInfo size(sizePath(id));
        const qint64 modified =
            std::max(part.exists() ? part.lastModified().toMSecsSinceEpoch() : 0,
                     size.exists() ? size.lastModified().toMSecsSinceEpoch() : 0);
        staged << Staged{id, p.received, p.total, modified};
    }
    std::sort(staged.begin(), staged.end(),
              [](const Staged& a, const Staged& b) { return a.modifiedMs > b.modifiedMs; });
    return staged;
}

Result<UploadProgress> UploadStore::append(const QString& id, quint64 totalSize, quint64 offset,
                                           QByteArrayView data) {
    if (auto ok = checkTransferId(id); !ok)
        return fail(ok.error());
    if (data.size() > kMaxChunk) {
        return fail(QStringLiteral("agent.chunk-too-large"),
                    QStringLiteral("A chunk holds at most %1 bytes; the client sent %2.")
                        .arg(kMaxChunk)
                        .arg(data.size()));
    }
    // One critical section from the offset check to the end of the write: two streams of the
    // same transfer must never both append at the same offset.
    std::lock_guard lock(m_mutex);
    UploadProgress current;
    struct stat st {};
    if (m_openId == id && ::fstat(m_openFd, &st) == 0) {
        current.received = static_cast<quint64>(st.st_size);
        current.total = m_openTotal;
    } else {
        current = progressLocked(id);
    }
    if (offset != current.received) {
        return fail(QStringLiteral("agent.upload-offset-mismatch"),
                    QStringLiteral("The agent holds %1 bytes of this transfer but the client sent "
                                   "data for offset %2; resume from offset %1.")
                        .arg(current.received)
                        .arg(offset));
    }
    if (current.total == 0) {
        if (totalSize == 0) {
            return fail(QStringLiteral("agent.upload-size-missing"),
                        QStringLiteral("The first chunk of a transfer must announce the bundle's "
                                       "total size."));
        }
        if (totalSize > m_maxBundleSize) {
            return fail(QStringLiteral("agent.bundle-too-large"),
                        QStringLiteral("The bundle has %1 bytes but this agent accepts at most %2 "
                                       "(max_bundle_size).")
                            .arg(totalSize)
                            .arg(m_maxBundleSize));
        }
        if (!QDir().mkpath(m_dir))
            return ioFailed(QStringLiteral("create"), m_dir);
        // A new transfer: the oldest others go, and the space the kept ones still need counts.
        quint64 stillNeeded = 0;
        int kept = 1;
        for (const Staged& other : stagedLocked()) {
            if (other.id == id)
                continue;
            if (kept < kMaxStaged || m_pinned.contains(other.id)) {
                ++kept;
                stillNeeded += other.total > other.received ? other.total - other.received : 0;
                continue;
            }
            qCInfo(lcAgent).noquote() << "evicting staged transfer" << other.id;
            removeLocked(other.id);
        }
        struct statvfs fs {};
        if (::statvfs(QFile::encodeName(m_dir).constData(), &fs) == 0) {
            const quint64 free = static_cast<quint64>(fs.f_bavail) * fs.f_frsize;
            if (free < totalSize + stillNeeded) {
                return fail(QStringLiteral("agent.disk-full"),
                            QStringLiteral("The agent has %1 bytes free but the bundle needs %2 "
                                           "(and staged transfers %3 more); free space on the "
                                           "device.")
                                .arg(free)
                                .arg(totalSize)
                                .arg(stillNeeded));
            }
        }
        if (auto ok = writeFileAtomically(sizePath(id), QByteArray::number(totalSize)); !ok) {
            return fail(ok.error());
        }
        current.total = totalSize;
    } else if (totalSize != 0 && totalSize != current.total) {
        return fail(QStringLiteral("agent.upload-size-changed"),
                    QStringLiteral("This transfer was started with %1 bytes but now announces %2; "
                                   "use a new transfer id.")
                        .arg(current.total)
                        .arg(totalSize));
    }
    if (offset + static_cast<quint64>(data.size()) > current.total) {
        return fail(QStringLiteral("agent.upload-too-long"),
                    QStringLiteral("The client sent more bytes than the %1 it announced.")
                        .arg(current.total));
    }
    const QString path = partPath(id);
    if (m_openId != id) {
        closeOpenLocked();
        const int opened = ::open(QFile::encodeName(path).constData(),
                                  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (opened < 0)
            return ioFailed(QStringLiteral("open"), path);
        m_openFd = opened;
        m_openId = id;
        m_openTotal = current.total;
    }
    const int fd = m_openFd;
    // The descriptor's real size is the offset the data lands at (O_APPEND).
    if (::fstat(fd, &st) != 0 || static_cast<quint64>(st.st_size) != offset) {
        const quint64 real = static_cast<quint64>(st.st_size);
        closeOpenLocked();
        return fail(QStringLiteral("agent.upload-offset-mismatch"),
                    QStringLiteral("The agent holds %1 bytes of this transfer but the client sent "
                                   "data for offset %2; resume from offset %1.")
                        .arg(real)
                        .arg(offset));
    }
    const char* p = data.data();
    qsizetype left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, static_cast<size_t>(left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            auto err = ioFailed(QStringLiteral("write"), path);
            // Cut a partial write back so the offset stays what was completely received.
            if (::ftruncate(fd, static_cast<off_t>(offset)) != 0) {
                qCWarning(lcAgent) << "could not truncate" << path;
            }
            closeOpenLocked();
            return err;
        }
        p += n;
        left -= n;
    }
    current.received = offset + static_cast<quint64>(data.size());
    current.hashTime = hashReceivedLocked(id, offset, data, current.total);
    return current;
}

std::chrono::nanoseconds UploadStore::hashReceivedLocked(const QString& id, quint64 offset,
                                                         QByteArrayView data, quint64 total) {
    if (offset == 0) {
        m_receiving = std::make_unique<Receiving>();
        m_receiving->id = id;
    }
    if (!m_receiving || m_receiving->id != id || m_receiving->next != qint64(offset)) {
        m_receiving.reset();  // not contiguous from 0 in this process: the install hashes
        return {};
    }
    Receiving& r = *m_receiving;
    if (r.payloadStart < 0) {
        r.head += data.first(std::min<qsizetype>(bundle::kHeaderSize - r.head.size(), data.size()));
        if (r.head.size() == bundle::kHeaderSize) {
            auto layout = bundle::parseFrameHeader(r.head, qint64(total));
            if (!layout) {
                m_receiving.reset();  // the install refuses it with the reason
                return {};
            }
            r.payloadStart = layout->payloadStart();
        }
    }
    const qint64 end = qint64(offset) + data.size();
    if (r.payloadStart >= 0 && end > r.payloadStart) {
        const qint64 from = std::max(r.payloadStart, qint64(offset));
        const auto started = std::chrono::steady_clock::now();
        r.hasher.update(data.sliced(from - qint64(offset)));
        r.hashTime += std::chrono::steady_clock::now() - started;
    }
    r.next = end;
    struct stat st {};
    if (quint64(end) == total && r.payloadStart >= 0 && ::fstat(m_openFd, &st) == 0) {
        m_received =
            Received{id, r.payloadStart, r.hasher.finish(), st.st_ino, st.st_size, modifiedNs(st)};
        const auto hashTime = r.hashTime;
        m_receiving.reset();
        return hashTime;
    }
    return {};
}

StagedFile::~StagedFile() {
    if (m_fd >= 0)
        ::close(m_fd);
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)),
      m_inode(other.m_inode),
      m_size(other.m_size),
      m_modifiedNs(other.m_modifiedNs) {}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
        m_inode = other.m_inode;
        m_size = other.m_size;
        m_modifiedNs = other.m_modifiedNs;
    }
    return *this;
}

bool StagedFile::unchanged() const {
    struct stat st {};
    return m_fd >= 0 && ::fstat(m_fd, &st) == 0 && st.st_ino == m_inode && st.st_size == m_size &&
           modifiedNs(st) == m_modifiedNs;
}

Result<StagedFile> UploadStore::openStaged(const QString& id) const {
    const QString path = partPath(id);
    StagedFile staged;
    staged.m_fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (staged.m_fd < 0 || ::fstat(staged.m_fd, &st) != 0) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read the staged bundle %1 (%2); upload it again.")
                        .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    }
    staged.m_inode = st.st_ino;
    staged.m_size = st.st_size;
    staged.m_modifiedNs = modifiedNs(st);
    return staged;
}

std::optional<QByteArray> UploadStore::receivedPayloadDigest(const StagedFile& staged,
                                                             const QString& id,
                                                             qint64 payloadStart) const {
    std::lock_guard lock(m_mutex);
    if (!m_received || m_received->id != id || m_received->payloadStart != payloadStart)
        return std::nullopt;
    // The descriptor the install copies from, not the path: what was hashed is what is copied.
    if (staged.m_inode != m_received->inode || staged.m_size != m_received->size ||
        staged.m_modifiedNs != m_received->modifiedNs || !staged.unchanged()) {
        return std::nullopt;
    }
    return m_received->digest;
}

void UploadStore::release(const QString& id) {
    std::lock_guard lock(m_mutex);
    if (m_openId == id)
        closeOpenLocked();
}

void UploadStore::remove(const QString& id) {
    std::lock_guard lock(m_mutex);
    removeLocked(id);
}

void UploadStore::removeLocked(const QString& id) {
    if (m_openId == id)
        closeOpenLocked();
    if (m_received && m_received->id == id)
        m_received.reset();
    if (m_receiving && m_receiving->id == id)
        m_receiving.reset();
    QFile::remove(partPath(id));
    QFile::remove(sizePath(id));
}

void UploadStore::pin(const QString& id) {
    std::lock_guard lock(m_mutex);
    m_pinned.insert(id);
}

void UploadStore::unpin(const QString& id) {
    std::lock_guard lock(m_mutex);
    m_pinned.remove(id);
}

void UploadStore::removeStale() {
    std::lock_guard lock(m_mutex);
    const qint64 cutoff =
        QDateTime::currentMSecsSinceEpoch() -
        std::chrono::duration_cast<std::chrono::milliseconds>(kStaleAfter).count();
    int kept = 0;
    for (const Staged& s : stagedLocked()) {
        if (s.modifiedMs >= cutoff && kept < kMaxStaged - 1) {
            ++kept;
            continue;
        }
        qCInfo(lcAgent).noquote() << "removing stale transfer" << s.id;
        removeLocked(s.id);
    }
}

}  // namespace otafleet::agent
