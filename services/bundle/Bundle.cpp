#include "bundle/Bundle.h"

#include "bundle/BundleIo.h"
#include "bundle/Logging.h"
#include "common/AtomicFile.h"
#include "crypto/Cms.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QtEndian>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace otafleet::bundle {
namespace {

constexpr qint64 kCopyBlock = 1024 * 1024;

std::unexpected<Error> truncated(qint64 have, qint64 need) {
    return fail(QStringLiteral("bundle.truncated"),
                QStringLiteral("The bundle is cut short: it has %1 bytes but its contents "
                               "need %2. The download or copy was interrupted; fetch the bundle "
                               "again.")
                    .arg(have)
                    .arg(need));
}

std::unexpected<Error> readFailed(const QString& path, const QString& reason) {
    return fail(QStringLiteral("io.read-failed"),
                QStringLiteral("Could not read the bundle %1 (%2); check the path and its "
                               "permissions.")
                    .arg(path, reason));
}

quint32 u32At(QByteArrayView header, qsizetype offset) {
    return qFromBigEndian<quint32>(header.data() + offset);
}

std::unexpected<Error> unsupported(quint32 version) {
    return fail(QStringLiteral("bundle.unsupported-format"),
                QStringLiteral("This bundle uses container format %1 (or a header this "
                               "otafleet does not know), but this otafleet reads formats %2 and "
                               "%3. Update otafleet to open it.")
                    .arg(version)
                    .arg(kLegacyContainerVersion)
                    .arg(kContainerVersion));
}

std::unexpected<Error> signatureTooLarge(qint64 size) {
    return fail(QStringLiteral("bundle.signature-too-large"),
                QStringLiteral("The bundle declares a %1-byte signature, more than the %2 "
                               "allowed or than its signature area; the bundle is damaged or "
                               "hostile. Do not install it.")
                    .arg(size)
                    .arg(crypto::kMaxSignatureSize));
}

}  // namespace

qint64 FrameLayout::headerSize() const {
    return version == kLegacyContainerVersion ? kLegacyHeaderSize : kHeaderSize;
}

int FrameLayout::copies() const {
    return version == kLegacyContainerVersion ? 1 : 2;
}

qint64 FrameLayout::signatureOffset(int copy) const {
    return headerSize() + manifestSize + copy * signatureArea;
}

qint64 FrameLayout::payloadStart() const {
    return headerSize() + manifestSize + copies() * signatureArea;
}

QByteArray FrameLayout::encodeHeader() const {
    QByteArray header(kHeaderSize, '\0');
    std::copy(kMagic.begin(), kMagic.end(), header.begin());
    qToBigEndian<quint32>(kContainerVersion, header.data() + 8);
    qToBigEndian<quint32>(static_cast<quint32>(manifestSize), header.data() + 12);
    qToBigEndian<quint32>(static_cast<quint32>(signatureSize), header.data() + 16);
    qToBigEndian<quint32>(static_cast<quint32>(signatureArea), header.data() + 20);
    qToBigEndian<quint32>(static_cast<quint32>(activeCopy), header.data() + 24);
    return header;
}

FrameLayout layoutFor(qint64 manifestSize, qint64 signatureSize) {
    constexpr qint64 kPage = 4096;
    // Twice the current signature leaves room for at least one more signer of a similar kind.
    const qint64 wanted =
        std::max(kDefaultSignatureArea, (2 * signatureSize + kPage - 1) / kPage * kPage);
    FrameLayout layout;
    layout.manifestSize = manifestSize;
    layout.signatureSize = signatureSize;
    layout.signatureArea = std::min<qint64>(wanted, crypto::kMaxSignatureSize);
    return layout;
}

Result<FrameLayout> parseFrameHeader(QByteArrayView header, qint64 available) {
    if (available < kMagic.size() || header.size() < kMagic.size() ||
        header.first(kMagic.size()) != kMagic) {
        return fail(QStringLiteral("bundle.not-a-bundle"),
                    QStringLiteral("This file is not an otafleet bundle (.otab): it does not "
                                   "start with the bundle marker. Choose the .otab file the "
                                   "release produced."));
    }
    if (available < kLegacyHeaderSize || header.size() < kLegacyHeaderSize) {
        return truncated(available, kLegacyHeaderSize);
    }
    FrameLayout frame;
    frame.version = u32At(header, 8);
    frame.manifestSize = u32At(header, 12);
    frame.signatureSize = u32At(header, 16);
    if (frame.version == kLegacyContainerVersion) {
        if (u32At(header, 20) != 0) {
            return unsupported(frame.version);
        }
        frame.signatureArea = frame.signatureSize;
    } else if (frame.version == kContainerVersion) {
        if (available < kHeaderSize || header.size() < kHeaderSize) {
            return truncated(available, kHeaderSize);
        }
        frame.signatureArea = u32At(header, 20);
        const quint32 active = u32At(header, 24);
        if (active > 1 || u32At(header, 28) != 0) {
            return unsupported(frame.version);
        }
        frame.activeCopy = static_cast<int>(active);
    } else {
        return unsupported(frame.version);
    }
    if (frame.manifestSize > Manifest::kMaxSize) {
        return fail(QStringLiteral("bundle.manifest-too-large"),
                    QStringLiteral("The bundle declares a %1-byte manifest, more than the %2 "
                                   "allowed; the bundle is damaged or hostile. Do not install it.")
                        .arg(frame.manifestSize)
                        .arg(Manifest::kMaxSize));
    }
    if (frame.signatureArea > crypto::kMaxSignatureSize) {
        return signatureTooLarge(frame.signatureArea);
    }
    if (frame.signatureSize > frame.signatureArea) {
        return signatureTooLarge(frame.signatureSize);
    }
    if (frame.manifestSize == 0) {
        return fail(QStringLiteral("bundle.manifest-malformed"),
                    QStringLiteral("The bundle has an empty manifest; it is damaged. Fetch it "
                                   "again."));
    }
    return frame;
}

namespace {

// The size check done once the manifest is known: shorter is truncation, longer is endless data.
Status checkTotalSize(qint64 fileSize, qint64 metadataEnd, const Manifest& manifest) {
    const qint64 expected = metadataEnd + static_cast<qint64>(manifest.totalPayloadSize());
    if (fileSize < expected) {
        return truncated(fileSize, expected);
    }
    if (fileSize > expected) {
        return fail(QStringLiteral("bundle.trailing-data"),
                    QStringLiteral("The bundle has %1 bytes more than its manifest declares. "
                                   "Something was appended to it; do not install it, fetch the "
                                   "original again.")
                        .arg(fileSize - expected));
    }
    return {};
}

}  // namespace

Result<BundleReader> BundleReader::fromBytes(QByteArrayView bytes) {
    auto frame =
        parseFrameHeader(bytes.first(std::min<qsizetype>(bytes.size(), kHeaderSize)), bytes.size());
    if (!frame) {
        return std::unexpected(frame.error());
    }
    const qint64 metadataEnd = frame->payloadStart();
    if (bytes.size() < metadataEnd) {
        return truncated(bytes.size(), metadataEnd);
    }
    BundleReader reader;
    reader.m_layout = *frame;
    reader.m_fileSize = bytes.size();
    reader.m_manifestBytes = bytes.sliced(frame->headerSize(), frame->manifestSize).toByteArray();
    reader.m_signature =
        bytes.sliced(frame->signatureOffset(frame->activeCopy), frame->signatureSize).toByteArray();
    auto manifest = Manifest::parse(reader.m_manifestBytes);
    if (!manifest) {
        return std::unexpected(manifest.error());
    }
    reader.m_manifest = std::move(*manifest);
    if (auto ok = checkTotalSize(reader.m_fileSize, metadataEnd, reader.m_manifest); !ok) {
        return std::unexpected(ok.error());
    }
    return reader;
}

Result<BundleReader> BundleReader::open(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return readFailed(path, file.errorString());
    }
    const QString name = QFileInfo(path).fileName();
    const qint64 size = file.size();
    const QByteArray header = file.read(kHeaderSize);
    auto frame = parseFrameHeader(header, std::min<qint64>(size, header.size()));
    if (!frame) {
        return std::unexpected(frame.error().withContext(name));
    }
    const qint64 metadataEnd = frame->payloadStart();
    if (size < metadataEnd) {
        return std::unexpected(truncated(size, metadataEnd).error().withContext(name));
    }
    BundleReader reader;
    reader.m_layout = *frame;
    reader.m_path = path;
    reader.m_fileSize = size;
    if (!file.seek(frame->headerSize())) {
        return readFailed(path, file.errorString());
    }
    reader.m_manifestBytes = file.read(frame->manifestSize);
    if (!file.seek(frame->signatureOffset(frame->activeCopy))) {
        return readFailed(path, file.errorString());
    }
    reader.m_signature = file.read(frame->signatureSize);
    if (reader.m_manifestBytes.size() != frame->manifestSize ||
        reader.m_signature.size() != frame->signatureSize) {
        return readFailed(path, file.errorString());
    }
    auto manifest = Manifest::parse(reader.m_manifestBytes);
    if (!manifest) {
        return std::unexpected(manifest.error().withContext(name));
    }
    reader.m_manifest = std::move(*manifest);
    if (auto ok = checkTotalSize(size, metadataEnd, reader.m_manifest); !ok) {
        return std::unexpected(ok.error().withContext(name));
    }
    return reader;
}

qint64 BundleReader::payloadOffset(int index) const {
    qint64 offset = m_layout.payloadStart();
    for (int i = 0; i < index && i < m_manifest.payloads.size(); ++i) {
        offset += static_cast<qint64>(m_manifest.payloads.at(i).size);
    }
    return offset;
}

namespace detail {

Status writeMetadata(QIODevice& out, const FrameLayout& layout, QByteArrayView manifestBytes,
                     QByteArrayView signature) {
    QByteArray area(layout.copies() * layout.signatureArea, '\0');
    std::copy(signature.begin(), signature.end(),
              area.begin() + layout.activeCopy * layout.signatureArea);
    const QByteArray header = layout.encodeHeader();
    if (out.write(header) != header.size() ||
        out.write(manifestBytes.data(), manifestBytes.size()) != manifestBytes.size() ||
        out.write(area) != area.size()) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not write the bundle (%1); check that the disk is not "
                                   "full.")
                        .arg(out.errorString()));
    }
    return {};
}

Status copyExactly(QIODevice& in, QIODevice& out, qint64 size, const QString& sourceName,
                   const std::function<void(QByteArrayView)>& observe,
                   const std::function<void(qint64)>& advanced,
                   const std::function<bool()>& cancelled) {
    QByteArray block;
    qint64 left = size;
    while (left > 0) {
        if (cancelled && cancelled()) {
            return fail(QStringLiteral("bundle.cancelled"),
                        QStringLiteral("Making the bundle was cancelled; nothing was written."));
        }
        block = in.read(std::min(left, kCopyBlock));
        if (block.isEmpty()) {
            return fail(QStringLiteral("bundle.invalid-input"),
                        QStringLiteral("%1 ended %2 bytes early (%3); was it changed while the "
                                       "bundle was written? Try again.")
                            .arg(sourceName)
                            .arg(left)
                            .arg(in.errorString()));
        }
        if (observe) {
            observe(block);
        }
        if (out.write(block) != block.size()) {
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("Could not write the bundle (%1); check that the disk is "
                                       "writable and not full.")
                            .arg(out.errorString()));
        }
        left -= block.size();
        if (advanced) {
            advanced(block.size());
        }
    }
    return {};
}

Status commitAtomically(QSaveFile& out, const QString& outPath) {
    if (!out.commit()) {  // QSaveFile fsyncs the temp file before renaming it
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not save %1 (%2); check that the disk is writable and "
                                   "not full.")
                        .arg(outPath, out.errorString()));
    }
    return syncDirectory(QFileInfo(outPath).absolutePath());
}

}  // namespace detail

Status writeBundle(const QString& outPath, QByteArrayView manifestBytes, QByteArrayView signature,
                   const QList<PayloadSource>& payloads,
                   const std::function<void(qint64, qint64)>& progress) {
    auto manifest = Manifest::parse(manifestBytes);
    if (!manifest) {
        return std::unexpected(manifest.error());
    }
    if (signature.size() > crypto::kMaxSignatureSize ||
        payloads.size() != manifest->payloads.size()) {
        return fail(QStringLiteral("bundle.invalid-input"),
                    QStringLiteral("Internal error: the bundle's signature or payload list does "
                                   "not fit its manifest. Please report this."));
    }
    QSaveFile out(outPath);
    if (!out.open(QIODevice::WriteOnly)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not create %1 (%2); check the folder exists and is "
                                   "writable.")
                        .arg(outPath, out.errorString()));
    }
    const FrameLayout layout = layoutFor(manifestBytes.size(), signature.size());
    if (auto ok = detail::writeMetadata(out, layout, manifestBytes, signature); !ok) {
        return ok;
    }
    const qint64 total = static_cast<qint64>(manifest->totalPayloadSize());
    qint64 done = 0;
    for (int i = 0; i < payloads.size(); ++i) {
        QFile in(payloads.at(i).path);
        if (!in.open(QIODevice::ReadOnly) || !in.seek(payloads.at(i).offset)) {
            return readFailed(payloads.at(i).path, in.errorString());
        }
        auto copied =
            detail::copyExactly(in, out, static_cast<qint64>(manifest->payloads.at(i).size),
                                payloads.at(i).path, {}, [&](qint64 n) {
                                    done += n;
                                    if (progress) {
                                        progress(done, total);
                                    }
                                });
        if (!copied) {
            return copied;
        }
    }
    qCDebug(lcBundle) << "wrote bundle" << outPath << "payload bytes" << total;
    return detail::commitAtomically(out, outPath);
}

namespace {

// Closes a descriptor on every path out.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

bool writeAllAt(int fd, QByteArrayView bytes, qint64 offset) {
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n =
            ::pwrite(fd, bytes.data() + done, static_cast<size_t>(bytes.size() - done),
                     static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += n;
    }
    return true;
}

std::unexpected<Error> writeFailed(const QString& path) {
    return fail(QStringLiteral("io.write-failed"),
                QStringLiteral("Could not write the new signature into %1 (%2); the bundle "
                               "keeps its previous signature. Check that the file is writable "
                               "and the disk not full, then sign again.")
                    .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
}

}  // namespace

Status replaceSignatureInPlace(const BundleReader& reader, QByteArrayView signature) {
    const FrameLayout& old = reader.layout();
    if (old.version != kContainerVersion || signature.size() > old.signatureArea) {
        return signatureTooLarge(signature.size());
    }
    const QString path = reader.path();
    Fd file{::open(QFile::encodeName(path).constData(), O_RDWR | O_CLOEXEC)};
    if (file.fd < 0) {
        return readFailed(path, QString::fromLocal8Bit(std::strerror(errno)));
    }
    // One signer at a time, and only on the bundle as it was read: two people signing the same
    // file at once must not lose a signature.
    if (::flock(file.fd, LOCK_EX) != 0) {
        return readFailed(path, QString::fromLocal8Bit(std::strerror(errno)));
    }
    struct stat st {};
    QByteArray header(kHeaderSize, '\0');
    if (::fstat(file.fd, &st) != 0 ||
        ::pread(file.fd, header.data(), kHeaderSize, 0) != kHeaderSize) {
        return readFailed(path, QString::fromLocal8Bit(std::strerror(errno)));
    }
    if (st.st_size != reader.fileSize() || header != old.encodeHeader()) {
        return fail(QStringLiteral("bundle.changed"),
                    QStringLiteral("%1 changed while it was being signed (someone else signed "
                                   "or replaced it). Check the bundle and sign it again.")
                        .arg(path));
    }
    FrameLayout next = old;
    next.activeCopy = 1 - old.activeCopy;
    next.signatureSize = signature.size();
    QByteArray copy(next.signatureArea, '\0');
    std::copy(signature.begin(), signature.end(), copy.begin());
    // The spare copy first, durably; only then the header that points at it. A crash before the
    // header write leaves the old signature in force; the header is 32 bytes in the file's
    // first sector, so it is written whole or not at all.
    if (!writeAllAt(file.fd, copy, next.signatureOffset(next.activeCopy)) ||
        ::fdatasync(file.fd) != 0) {
        return writeFailed(path);
    }
    if (!writeAllAt(file.fd, next.encodeHeader(), 0) || ::fdatasync(file.fd) != 0) {
        return writeFailed(path);
    }
    qCDebug(lcBundle) << "signature of" << path << "replaced in place, copy" << next.activeCopy
                      << "," << signature.size() << "bytes";
    return {};
}

}  // namespace otafleet::bundle
