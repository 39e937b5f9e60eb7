#include "agent/UploadStore.h"

#include "agent/Logging.h"
#include "common/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace otafleet::agent {
namespace {

std::unexpected<Error> ioFailed(const QString& what, const QString& path) {
    return fail(QStringLiteral("io.write-failed"),
                QStringLiteral("Could not %1 %2 (%3); check the agent's disk.")
                    .arg(what, path, QString::fromLocal8Bit(std::strerror(errno))));
}

}  // namespace

UploadStore::UploadStore(QString directory, quint64 maxBundleSize)
    : m_dir(std::move(directory)), m_maxBundleSize(maxBundleSize) {}

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

Result<UploadProgress> UploadStore::progress(const QString& id) const {
    if (auto ok = checkTransferId(id); !ok)
        return fail(ok.error());
    std::lock_guard lock(m_mutex);
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
    auto current = progress(id);
    if (!current)
        return current;
    std::lock_guard lock(m_mutex);
    if (offset != current->received) {
        return fail(QStringLiteral("agent.upload-offset-mismatch"),
                    QStringLiteral("The agent holds %1 bytes of this transfer but the client sent "
                                   "data for offset %2; resume from offset %1.")
                        .arg(current->received)
                        .arg(offset));
    }
    if (current->total == 0) {
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
        struct statvfs fs {};
        if (::statvfs(QFile::encodeName(m_dir).constData(), &fs) == 0) {
            const quint64 free = static_cast<quint64>(fs.f_bavail) * fs.f_frsize;
            if (free < totalSize) {
                return fail(QStringLiteral("agent.disk-full"),
                            QStringLiteral("The agent has %1 bytes free but the bundle needs %2; "
                                           "free space on the device.")
                                .arg(free)
                                .arg(totalSize));
            }
        }
        if (auto ok = writeFileAtomically(sizePath(id), QByteArray::number(totalSize)); !ok) {
            return fail(ok.error());
        }
        current->total = totalSize;
    } else if (totalSize != 0 && totalSize != current->total) {
        return fail(QStringLiteral("agent.upload-size-changed"),
                    QStringLiteral("This transfer was started with %1 bytes but now announces %2; "
                                   "use a new transfer id.")
                        .arg(current->total)
                        .arg(totalSize));
    }
    if (offset + static_cast<quint64>(data.size()) > current->total) {
        return fail(QStringLiteral("agent.upload-too-long"),
                    QStringLiteral("The client sent more bytes than the %1 it announced.")
                        .arg(current->total));
    }
    const QString path = partPath(id);
    const int fd = ::open(QFile::encodeName(path).constData(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return ioFailed(QStringLiteral("open"), path);
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
            ::close(fd);
            return err;
        }
        p += n;
        left -= n;
    }
    m_unsynced += static_cast<quint64>(data.size());
    if (m_unsynced >= kSyncEvery || offset + data.size() == current->total) {
        ::fsync(fd);
        m_unsynced = 0;
    }
    ::close(fd);
    current->received = offset + static_cast<quint64>(data.size());
    return *current;
}

Status UploadStore::sync(const QString& id) {
    std::lock_guard lock(m_mutex);
    const int fd = ::open(QFile::encodeName(partPath(id)).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    ::fsync(fd);
    ::close(fd);
    return {};
}

void UploadStore::remove(const QString& id) {
    std::lock_guard lock(m_mutex);
    QFile::remove(partPath(id));
    QFile::remove(sizePath(id));
}

}  // namespace otafleet::agent
