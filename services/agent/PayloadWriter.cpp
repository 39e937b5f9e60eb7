#include "agent/PayloadWriter.h"

#include "bundle/PayloadDecoder.h"
#include "crypto/Sha256.h"

#include <QFile>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <memory>

namespace otafleet::agent {
namespace {

class FdSink final : public bundle::PayloadSink {
public:
    FdSink(int fd, QString path) : m_fd(fd), m_path(std::move(path)) {}
    Status write(QByteArrayView data) override {
        const char* p = data.data();
        qsizetype left = data.size();
        while (left > 0) {
            const ssize_t n = ::write(m_fd, p, static_cast<size_t>(left));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return fail(QStringLiteral("agent.slot-write-failed"),
                            QStringLiteral("Could not write slot %1 (%2); the running firmware "
                                           "stays active. Free or replace the slot storage and "
                                           "install again.")
                                .arg(m_path, QString::fromLocal8Bit(
                                                 std::strerror(n == 0 ? ENOSPC : errno))));
            }
            p += n;
            left -= n;
        }
        return {};
    }

private:
    int m_fd;
    QString m_path;
};

std::unexpected<Error> baseMismatch(const bundle::PayloadEntry& entry, const QString& detail) {
    return fail(QStringLiteral("bundle.delta-base-mismatch"),
                QStringLiteral("Payload '%1' is a delta made against another firmware than the "
                               "one this device runs (%2); nothing was written. Send the full "
                               "bundle, or a delta made from the installed version.")
                    .arg(entry.name, detail));
}

}  // namespace

Status PayloadWriter::checkBase(const bundle::PayloadEntry& entry, const SlotContent& active) {
    if (entry.encoding != bundle::Encoding::ZstdPatch) {
        return {};
    }
    if (active.sha256 != entry.baseSha256) {
        return baseMismatch(entry, QStringLiteral("base %1, installed %2")
                                       .arg(crypto::Sha256::hex(entry.baseSha256).left(16),
                                            crypto::Sha256::hex(active.sha256).left(16)));
    }
    return {};
}

Status PayloadWriter::write(const SlotStore& slots, SlotId target, SlotId active,
                            const bundle::BundleReader& reader, int index,
                            const bundle::Progress& progress) {
    const bundle::PayloadEntry& entry = reader.manifest().payloads.at(index);
    if (entry.encoding == bundle::Encoding::Raw) {
        return slots.writePayload(target, reader, index, progress);
    }
    const QString slotPath = slots.slotPath(target);
    const QString basePath = slots.slotPath(active);
    // The base stays mapped read-only while the patch is decoded; zstd references it in place.
    QFile baseFile(basePath);
    QByteArrayView base;
    if (entry.encoding == bundle::Encoding::ZstdPatch) {
        if (!baseFile.open(QIODevice::ReadOnly)) {
            return fail(QStringLiteral("io.read-failed"),
                        QStringLiteral("Could not read the active slot %1 (%2).")
                            .arg(basePath, baseFile.errorString()));
        }
        const qint64 size = baseFile.size();
        if (size > 0) {
            const uchar* mapped = baseFile.map(0, size);
            if (!mapped) {
                return fail(QStringLiteral("io.read-failed"),
                            QStringLiteral("Could not map the active slot %1 (%2).")
                                .arg(basePath, baseFile.errorString()));
            }
            base = QByteArrayView(mapped, size);
        }
    }
    const int fd = ::open(QFile::encodeName(slotPath).constData(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not open slot %1 (%2).")
                        .arg(slotPath, QString::fromLocal8Bit(std::strerror(errno))));
    }
    FdSink sink(fd, slotPath);
    Status result;
    auto decoder = bundle::PayloadDecoder::create(entry, sink, base);
    if (!decoder) {
        result = fail(decoder.error());
    } else {
        result = bundle::BundleVerifier::streamPayload(reader, index, **decoder, progress);
        if (result) {
            result = (*decoder)->finish();
        }
    }
    if (result && ::fsync(fd) != 0) {
        result = fail(QStringLiteral("agent.slot-write-failed"),
                      QStringLiteral("Could not flush slot %1 to disk (%2); the running firmware "
                                     "stays active. Check the slot storage and install again.")
                          .arg(slotPath, QString::fromLocal8Bit(std::strerror(errno))));
    }
    ::close(fd);
    return result;
}

}  // namespace otafleet::agent
