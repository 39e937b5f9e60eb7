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

// Where the frame's fields sit; filled from the header before anything else is read.
struct Frame {
    qint64 manifestSize = 0;
    qint64 signatureSize = 0;
};

// Checks the fixed header; `available` is the total size of the file or buffer.
Result<Frame> parseHeader(QByteArrayView header, qint64 available) {
    if (available < kMagic.size() || header.first(kMagic.size()) != kMagic) {
        return fail(QStringLiteral("bundle.not-a-bundle"),
                    QStringLiteral("This file is not an otafleet bundle (.otab): it does not "
                                   "start with the bundle marker. Choose the .otab file the "
                                   "release produced."));
    }
    if (available < kHeaderSize) {
        return truncated(available, kHeaderSize);
    }
    const quint32 version = u32At(header, 8);
    if (version != kContainerVersion || u32At(header, 20) != 0) {
        return fail(QStringLiteral("bundle.unsupported-format"),
                    QStringLiteral("This bundle uses container format %1, but this otafleet "
                                   "reads format %2. Update otafleet to open it.")
                        .arg(version)
                        .arg(kContainerVersion));
    }
    Frame frame;
    frame.manifestSize = u32At(header, 12);
    frame.signatureSize = u32At(header, 16);
    if (frame.manifestSize > Manifest::kMaxSize) {
        return fail(QStringLiteral("bundle.manifest-too-large"),
                    QStringLiteral("The bundle declares a %1-byte manifest, more than the %2 "
                                   "allowed; the bundle is damaged or hostile. Do not install it.")
                        .arg(frame.manifestSize)
                        .arg(Manifest::kMaxSize));
    }
    if (frame.signatureSize > crypto::kMaxSignatureSize) {
        return fail(QStringLiteral("bundle.signature-too-large"),
                    QStringLiteral("The bundle declares a %1-byte signature, more than the %2 "
                                   "allowed; the bundle is damaged or hostile. Do not install it.")
                        .arg(frame.signatureSize)
                        .arg(crypto::kMaxSignatureSize));
    }
    if (frame.manifestSize == 0) {
        return fail(QStringLiteral("bundle.manifest-malformed"),
                    QStringLiteral("The bundle has an empty manifest; it is damaged. Fetch it "
                                   "again."));
    }
    return frame;
}

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
        parseHeader(bytes.first(std::min<qsizetype>(bytes.size(), kHeaderSize)), bytes.size());
    if (!frame) {
        return std::unexpected(frame.error());
    }
    const qint64 metadataEnd = kHeaderSize + frame->manifestSize + frame->signatureSize;
    if (bytes.size() < metadataEnd) {
        return truncated(bytes.size(), metadataEnd);
    }
    BundleReader reader;
    reader.m_fileSize = bytes.size();
    reader.m_manifestBytes = bytes.sliced(kHeaderSize, frame->manifestSize).toByteArray();
    reader.m_signature =
        bytes.sliced(kHeaderSize + frame->manifestSize, frame->signatureSize).toByteArray();
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
    const qint64 size = file.size();
    const QByteArray header = file.read(kHeaderSize);
    auto frame = parseHeader(header, std::min<qint64>(size, header.size()));
    if (!frame) {
        return std::unexpected(frame.error().withContext(QFileInfo(path).fileName()));
    }
    const qint64 metadataEnd = kHeaderSize + frame->manifestSize + frame->signatureSize;
    if (size < metadataEnd) {
        return std::unexpected(
            truncated(size, metadataEnd).error().withContext(QFileInfo(path).fileName()));
    }
    BundleReader reader;
    reader.m_path = path;
    reader.m_fileSize = size;
    reader.m_manifestBytes = file.read(frame->manifestSize);
    reader.m_signature = file.read(frame->signatureSize);
    if (reader.m_manifestBytes.size() != frame->manifestSize ||
        reader.m_signature.size() != frame->signatureSize) {
        return readFailed(path, file.errorString());
    }
    auto manifest = Manifest::parse(reader.m_manifestBytes);
    if (!manifest) {
        return std::unexpected(manifest.error().withContext(QFileInfo(path).fileName()));
    }
    reader.m_manifest = std::move(*manifest);
    if (auto ok = checkTotalSize(size, metadataEnd, reader.m_manifest); !ok) {
        return std::unexpected(ok.error().withContext(QFileInfo(path).fileName()));
    }
    return reader;
}

qint64 BundleReader::payloadOffset(int index) const {
    qint64 offset = kHeaderSize + m_manifestBytes.size() + m_signature.size();
    for (int i = 0; i < index && i < m_manifest.payloads.size(); ++i) {
        offset += static_cast<qint64>(m_manifest.payloads.at(i).size);
    }
    return offset;
}

namespace detail {

QByteArray encodeHeader(qint64 manifestSize, qint64 signatureSize) {
    QByteArray header(kHeaderSize, '\0');
    std::copy(kMagic.begin(), kMagic.end(), header.begin());
    qToBigEndian<quint32>(kContainerVersion, header.data() + 8);
    qToBigEndian<quint32>(static_cast<quint32>(manifestSize), header.data() + 12);
    qToBigEndian<quint32>(static_cast<quint32>(signatureSize), header.data() + 16);
    return header;
}

Status copyExactly(QIODevice& in, QIODevice& out, qint64 size, const QString& sourceName,
                   const std::function<void(QByteArrayView)>& observe,
                   const std::function<void(qint64)>& advanced) {
    QByteArray block;
    qint64 left = size;
    while (left > 0) {
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
    const QByteArray header = detail::encodeHeader(manifestBytes.size(), signature.size());
    if (out.write(header) != header.size() ||
        out.write(manifestBytes.data(), manifestBytes.size()) != manifestBytes.size() ||
        out.write(signature.data(), signature.size()) != signature.size()) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not write %1 (%2); check that the disk is not full.")
                        .arg(outPath, out.errorString()));
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

}  // namespace otafleet::bundle
