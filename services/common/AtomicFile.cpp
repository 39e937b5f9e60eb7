#include "common/AtomicFile.h"

#include <QFile>
#include <QFileInfo>

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace otafleet {
namespace {

Error ioError(const QString& what, const QString& path) {
    return Error{QStringLiteral("io.write-failed"),
                 QStringLiteral("Could not %1 %2 (%3); check that the disk is writable and not "
                                "full.")
                     .arg(what, path, QString::fromLocal8Bit(std::strerror(errno)))};
}

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    [[nodiscard]] int get() const { return m_fd; }
    int release() { return std::exchange(m_fd, -1); }

private:
    int m_fd;
};

}  // namespace

Status syncDirectory(const QString& directory) {
    const Fd dir(
        ::open(QFile::encodeName(directory).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
        return std::unexpected(ioError(QStringLiteral("sync directory"), directory));
    }
    return {};
}

Status writeFileAtomically(const QString& path, QByteArrayView content, int permissions) {
    // A unique temp name created exclusively and never through a symlink: two writers of the same
    // file cannot clobber each other's temp file, and a link planted beside the target cannot
    // redirect the write (this helper writes private keys and boot state).
    QByteArray tempName = QFile::encodeName(path) + ".XXXXXX";
    Fd fd(::mkostemp(tempName.data(), O_CLOEXEC));
    const QString temp = QFile::decodeName(tempName);
    if (fd.get() < 0) {
        return std::unexpected(ioError(QStringLiteral("create"), temp));
    }
    const auto discard = [&] { ::unlink(tempName.constData()); };
    const char* data = content.data();
    qsizetype left = content.size();
    while (left > 0) {
        const ssize_t n = ::write(fd.get(), data, static_cast<size_t>(left));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const Error error = ioError(QStringLiteral("write"), temp);
            discard();
            return std::unexpected(error);
        }
        data += n;
        left -= n;
    }
    if (::fchmod(fd.get(), static_cast<mode_t>(permissions)) != 0 || ::fsync(fd.get()) != 0 ||
        ::close(fd.release()) != 0) {
        const Error error = ioError(QStringLiteral("flush"), temp);
        discard();
        return std::unexpected(error);
    }
    if (::rename(tempName.constData(), QFile::encodeName(path).constData()) != 0) {
        const Error error = ioError(QStringLiteral("replace"), path);
        discard();
        return std::unexpected(error);
    }
    return syncDirectory(QFileInfo(path).absolutePath());
}

Result<QByteArray> readFileBounded(const QString& path, qint64 maxBytes) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not open %1 (%2); check the path and its permissions.")
                        .arg(path, file.errorString()));
    }
    if (file.size() > maxBytes) {
        return fail(QStringLiteral("io.too-large"),
                    QStringLiteral("%1 is %2 bytes, more than the %3 allowed for this kind of "
                                   "file; is it the right file?")
                        .arg(path)
                        .arg(file.size())
                        .arg(maxBytes));
    }
    // Grown block by block from what the file holds: QFile::read(n) allocates n up front, and a
    // 2 MiB allowance must not cost 2 MiB of heap for a 1 KiB certificate (the agent's RSS).
    constexpr qint64 kBlock = 64 * 1024;
    QByteArray data;
    data.reserve(std::min(file.size(), maxBytes) + 1);
    while (data.size() <= maxBytes) {
        const QByteArray block = file.read(std::min<qint64>(kBlock, maxBytes + 1 - data.size()));
        if (block.isEmpty())
            break;
        data += block;
    }
    if (data.size() > maxBytes) {
        return fail(
            QStringLiteral("io.too-large"),
            QStringLiteral("%1 grew past %2 bytes while it was read.").arg(path).arg(maxBytes));
    }
    return data;
}

}  // namespace otafleet
