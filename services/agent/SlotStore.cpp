#include "agent/SlotStore.h"

#include "agent/CrashPoint.h"
#include "common/AtomicFile.h"
#include "crypto/Sha256.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <optional>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace otafleet::agent {
namespace {

std::unexpected<Error> unreadable(const QString& path, const QString& reason) {
    return fail(QStringLiteral("io.read-failed"),
                QStringLiteral("Could not read slot %1 (%2); check the slot's path and storage.")
                    .arg(path, reason));
}

// 0 for a regular file, the device's size for a block device.
Result<quint64> capacityOf(const QString& path) {
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return unreadable(path, QString::fromLocal8Bit(std::strerror(errno)));
    struct stat st {};
    quint64 capacity = 0;
    bool ok = ::fstat(fd, &st) == 0;
    if (ok && S_ISBLK(st.st_mode))
        ok = ::ioctl(fd, BLKGETSIZE64, &capacity) == 0;
    const QString reason = ok ? QString() : QString::fromLocal8Bit(std::strerror(errno));
    ::close(fd);
    if (!ok)
        return unreadable(path, reason);
    return capacity;
}

// SHA-256 of exactly the first `size` bytes (a block device is larger than its firmware);
// std::nullopt when the slot holds fewer.
Result<std::optional<QByteArray>> hashPrefix(const QString& path, quint64 size) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return unreadable(path, file.errorString());
    crypto::Sha256 hasher;
    constexpr qint64 kBlock = 1024 * 1024;
    quint64 left = size;
    while (left > 0) {
        const QByteArray block = file.read(qint64(std::min<quint64>(left, kBlock)));
        if (block.isEmpty())
            return std::optional<QByteArray>();
        hasher.update(block);
        left -= quint64(block.size());
    }
    return std::optional<QByteArray>(hasher.finish());
}

std::unexpected<Error> slotWriteFailed(const QString& path, int error) {
    // ENOSPC (a full disk, or /dev/full as a test slot) ends up here: the slot was marked bad
    // before its first byte, so the active slot stays primary.
    return fail(QStringLiteral("agent.slot-write-failed"),
                QStringLiteral("Could not write slot %1 (%2); the running firmware stays active. "
                               "Free or replace the slot storage and install again.")
                    .arg(path, QString::fromLocal8Bit(std::strerror(error))));
}

class FdSink final : public SlotSink {
public:
    FdSink(int fd, QString path) : m_fd(fd), m_path(std::move(path)) {}

    Status write(QByteArrayView data) override {
        const quint64 allowed =
            crash::slotWriteAllowance(m_written, static_cast<quint64>(data.size()));
        if (auto ok = writeAll(data.first(static_cast<qsizetype>(allowed))); !ok)
            return ok;
        if (allowed < static_cast<quint64>(data.size()))
            crash::afterShortSlotWrite();
        return {};
    }

    Status copyFrom(int source, qint64 offset, quint64 size,
                    const bundle::Progress& progress) override {
        // Progress and the fault sweep's cuts come per piece; the kernel copies each in one go.
        constexpr quint64 kPiece = 8 * 1024 * 1024;
        loff_t in = offset;
        quint64 done = 0;
        while (done < size) {
            const quint64 piece = std::min(kPiece, size - done);
            const quint64 allowed = crash::slotWriteAllowance(m_written, piece);
            for (quint64 moved = 0; moved < allowed;) {
                auto n = copyOnce(source, in, allowed - moved);
                if (!n)
                    return fail(n.error());
                moved += *n;
                in += loff_t(*n);
            }
            if (allowed < piece)
                crash::afterShortSlotWrite();
            done += piece;
            if (progress)
                progress(qint64(done), qint64(size));
        }
        return {};
    }

private:
    Status writeAll(QByteArrayView data) {
        const char* p = data.data();
        qsizetype left = data.size();
        while (left > 0) {
            const ssize_t n = ::write(m_fd, p, static_cast<size_t>(left));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return slotWriteFailed(m_path, n == 0 ? ENOSPC : errno);
            p += n;
            left -= n;
            m_written += static_cast<quint64>(n);
        }
        return {};
    }

    // Up to `most` bytes from `source` at `at` into the slot; how many moved (> 0).
    Result<quint64> copyOnce(int source, loff_t at, quint64 most) {
        if (m_inKernel) {
            loff_t from = at;
            const ssize_t n = ::copy_file_range(source, &from, m_fd, nullptr, most, 0);
            if (n > 0) {
                m_written += quint64(n);
                return quint64(n);
            }
            if (n < 0 && errno == EINTR)
                return copyOnce(source, at, most);
            // Not between these two files (a block device, another file system, an old
            // kernel), or a 0 that may mean the same: the buffer path says which.
            if (n < 0 && errno != EINVAL && errno != EXDEV && errno != ENOSYS &&
                errno != EOPNOTSUPP && errno != EBADF) {
                return slotWriteFailed(m_path, errno);
            }
            m_inKernel = false;
        }
        if (m_buffer.isEmpty())
            m_buffer.resize(kBuffer);
        const ssize_t got =
            ::pread(source, m_buffer.data(), size_t(std::min<quint64>(most, quint64(kBuffer))), at);
        if (got < 0 && errno == EINTR)
            return copyOnce(source, at, most);
        if (got < 0) {
            return fail(QStringLiteral("io.read-failed"),
                        QStringLiteral("Could not read the staged bundle for slot %1 (%2); "
                                       "upload it again.")
                            .arg(m_path, QString::fromLocal8Bit(std::strerror(errno))));
        }
        if (got == 0) {
            return fail(QStringLiteral("bundle.truncated"),
                        QStringLiteral("The staged bundle ended before its payload did; upload "
                                       "it again."));
        }
        if (auto ok = writeAll(QByteArrayView(m_buffer.constData(), got)); !ok)
            return fail(ok.error());
        return quint64(got);
    }

    static constexpr qsizetype kBuffer = 1024 * 1024;
    int m_fd;
    QString m_path;
    quint64 m_written = 0;
    bool m_inKernel = true;
    QByteArray m_buffer;
};

std::unexpected<Error> tamper(SlotId slot, const QString& why) {
    return fail(QStringLiteral("agent.tamper-detected"),
                QStringLiteral("Slot %1 does not match its signed manifest (%2); it will not be "
                               "booted. Reinstall the firmware.")
                    .arg(slotName(slot), why));
}

}  // namespace

SlotContent contentOf(const bundle::Manifest& manifest) {
    SlotContent c;
    c.version = manifest.version.toString();
    c.securityVersion = manifest.securityVersion;
    if (!manifest.payloads.isEmpty()) {
        // The slot holds the decoded target (equal to the stored bytes for a raw payload).
        c.sha256 = manifest.payloads.first().targetSha256;
        c.size = manifest.payloads.first().targetSize;
    }
    return c;
}

SlotStore::SlotStore(QString slotA, QString slotB, QString stateDir)
    : m_slots{std::move(slotA), std::move(slotB)}, m_stateDir(std::move(stateDir)) {}

QString SlotStore::slotPath(SlotId slot) const {
    return m_slots[slotIndex(slot)];
}
QString SlotStore::manifestPath(SlotId slot) const {
    return QDir(m_stateDir)
        .filePath(QStringLiteral("slot-%1.manifest").arg(slotName(slot).toLower()));
}
QString SlotStore::signaturePath(SlotId slot) const {
    return QDir(m_stateDir).filePath(QStringLiteral("slot-%1.sig").arg(slotName(slot).toLower()));
}

Result<SlotContent> SlotStore::describe(SlotId slot) const {
    auto bytes = readFileBounded(manifestPath(slot), bundle::Manifest::kMaxSize);
    if (!bytes) {
        return fail(QStringLiteral("agent.slot-empty"),
                    QStringLiteral("Slot %1 holds no installed firmware.").arg(slotName(slot)));
    }
    return describeBytes(slot, *bytes);
}

Result<SlotContent> SlotStore::describeBytes(SlotId slot, const QByteArray& bytes) {
    auto manifest = bundle::Manifest::parse(bytes);
    if (!manifest)
        return tamper(slot, manifest.error().message);
    if (manifest->payloads.size() != 1)
        return tamper(slot, QStringLiteral("payload count"));
    return contentOf(*manifest);
}

Result<SlotContent> SlotStore::verify(SlotId slot, const crypto::TrustStore& trust) const {
    auto bytes = readFileBounded(manifestPath(slot), bundle::Manifest::kMaxSize);
    if (!bytes) {
        return fail(QStringLiteral("agent.slot-empty"),
                    QStringLiteral("Slot %1 holds no installed firmware.").arg(slotName(slot)));
    }
    auto signature = readFileBounded(signaturePath(slot), crypto::kMaxSignatureSize);
    if (!signature)
        return tamper(slot, QStringLiteral("its signature is missing"));
    // Fields come from the very bytes whose signature is checked, never from a second read.
    auto content = describeBytes(slot, *bytes);
    if (!content)
        return content;
    // A release certificate that expires after the firmware was installed must not brick the
    // device: when the signer is no longer valid now, validity is judged at the (signed) time the
    // manifest was made.
    auto signers =
        crypto::verifyDetached(*bytes, *signature, trust, QDateTime::currentDateTimeUtc());
    if (!signers && signers.error().code == u"crypto.signer-expired") {
        auto manifest = bundle::Manifest::parse(*bytes);
        if (manifest && manifest->created.isValid()) {
            signers = crypto::verifyDetached(*bytes, *signature, trust, manifest->created);
        }
    }
    if (!signers)
        return tamper(slot, signers.error().message);
    const QString path = slotPath(slot);
    const QFileInfo info(path);
    if (!info.exists())
        return tamper(slot, QStringLiteral("its slot is missing"));
    auto capacity = capacityOf(path);
    if (!capacity)
        return fail(capacity.error());
    // A file holds exactly the payload; a block device holds it at its start.
    const bool fits = *capacity > 0 ? *capacity >= content->size
                                    : static_cast<quint64>(info.size()) == content->size;
    if (!fits)
        return tamper(slot, QStringLiteral("its size differs"));
    auto hash = hashPrefix(path, content->size);
    if (!hash)
        return fail(hash.error());
    if (!*hash || **hash != content->sha256)
        return tamper(slot, QStringLiteral("its SHA-256 differs"));
    return content;
}

Status SlotStore::storeManifest(SlotId slot, QByteArrayView manifest,
                                QByteArrayView signature) const {
    if (!QDir().mkpath(m_stateDir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not create %1.").arg(m_stateDir));
    }
    if (auto ok = writeFileAtomically(signaturePath(slot), signature); !ok)
        return ok;
    crash::at("manifest-signature-stored");
    auto ok = writeFileAtomically(manifestPath(slot), manifest);
    crash::at("manifest-stored");
    return ok;
}

Result<quint64> SlotStore::blockCapacity(SlotId slot) const {
    return capacityOf(slotPath(slot));
}

Status SlotStore::writeSlot(SlotId slot, const Producer& produce) const {
    const QString path = slotPath(slot);
    struct stat st {};
    const bool block = ::stat(QFile::encodeName(path).constData(), &st) == 0 && S_ISBLK(st.st_mode);
    // A partition cannot be truncated or created; a slot file is rewritten from empty.
    const int flags = block ? O_WRONLY | O_CLOEXEC : O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    const int fd = ::open(QFile::encodeName(path).constData(), flags, 0600);
    if (fd < 0) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not open slot %1 (%2).")
                        .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    }
    crash::at("slot-opened");
    FdSink sink(fd, path);
    Status result = produce(sink);
    crash::at("slot-written");
    if (result && ::fsync(fd) != 0) {
        result = fail(QStringLiteral("agent.slot-write-failed"),
                      QStringLiteral("Could not flush slot %1 to disk (%2); the running firmware "
                                     "stays active. Check the slot storage and install again.")
                          .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    }
    ::close(fd);
    if (result)
        crash::at("slot-synced");
    return result;
}

}  // namespace otafleet::agent
