#include "bundle/PayloadCompression.h"

#include "crypto/Sha256.h"

#include <QFile>

#include <zstd.h>

#include <memory>

namespace otafleet::bundle::detail {
namespace {

constexpr qint64 kBlock = 1024 * 1024;

struct CctxFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

std::unexpected<Error> compressFailed(const QString& path, const QString& reason) {
    return fail(QStringLiteral("bundle.compress-failed"),
                QStringLiteral("Could not compress payload %1 (%2); check free disk space, or "
                               "create the bundle without compression.")
                    .arg(path, reason));
}

}  // namespace

int patchWindowLog(quint64 baseSize, quint64 targetSize) {
    const ZSTD_bounds bounds = ZSTD_cParam_getBounds(ZSTD_c_windowLog);
    int log = bounds.lowerBound;
    while (log < bounds.upperBound && (quint64{1} << log) < baseSize + targetSize) {
        ++log;
    }
    return log;
}

Result<CompressedPayload> compressPayload(const QString& sourcePath, QIODevice& out, int level) {
    QFile in(sourcePath);
    if (!in.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("bundle.invalid-input"),
                    QStringLiteral("Could not open payload file %1 (%2).")
                        .arg(sourcePath, in.errorString()));
    }
    const std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
    if (!cctx || ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(
            ZSTD_CCtx_setPledgedSrcSize(cctx.get(), static_cast<unsigned long long>(in.size())))) {
        return compressFailed(sourcePath, QStringLiteral("zstd could not be set up"));
    }
    crypto::Sha256 sourceHash;
    crypto::Sha256 storedHash;
    CompressedPayload result;
    QByteArray outBuffer(static_cast<qsizetype>(ZSTD_CStreamOutSize()), '\0');
    bool finished = false;
    while (!finished) {
        const QByteArray block = in.read(kBlock);
        const bool last = block.size() < kBlock && in.atEnd();
        sourceHash.update(block);
        result.targetSize += static_cast<quint64>(block.size());
        ZSTD_inBuffer input{block.constData(), static_cast<size_t>(block.size()), 0};
        const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
        for (;;) {
            ZSTD_outBuffer output{outBuffer.data(), static_cast<size_t>(outBuffer.size()), 0};
            const size_t left = ZSTD_compressStream2(cctx.get(), &output, &input, mode);
            if (ZSTD_isError(left)) {
                return compressFailed(sourcePath, QString::fromLatin1(ZSTD_getErrorName(left)));
            }
            const QByteArrayView produced(outBuffer.constData(),
                                          static_cast<qsizetype>(output.pos));
            storedHash.update(produced);
            if (out.write(produced.data(), produced.size()) != produced.size()) {
                return compressFailed(sourcePath, out.errorString());
            }
            result.storedSize += output.pos;
            if (last ? left == 0 : input.pos == input.size) {
                break;
            }
        }
        finished = last;
        if (block.isEmpty() && !last) {
            return compressFailed(sourcePath, in.errorString());
        }
    }
    result.storedSha256 = storedHash.finish();
    result.targetSha256 = sourceHash.finish();
    return result;
}

}  // namespace otafleet::bundle::detail
