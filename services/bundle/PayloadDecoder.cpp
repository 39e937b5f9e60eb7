#include "bundle/PayloadDecoder.h"

#include "bundle/PayloadCompression.h"
#include "crypto/Sha256.h"

#include <zstd.h>

#include <algorithm>

namespace otafleet::bundle {
namespace {

struct DctxFree {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// Frames may ask for a window up to 2^27 (128 MiB, zstd --long); larger ones are refused so
// that a hostile frame cannot make a small device allocate gigabytes.
constexpr int kMaxWindowLog = 27;
// The largest window stock zstd picks at levels 1 to 19 (8 MiB): frames made by any zstd
// without --long or --ultra decode whatever the payload's size.
constexpr int kStockWindowLog = 23;

// Beyond the stock window, a frame's window need not exceed what it decodes to (the bundle
// builder pledges the payload's size, so zstd sizes the window to it). Allowing more would let
// a hostile frame make the device allocate 128 MiB for a payload the manifest says is small.
int payloadWindowLogMax(quint64 targetSize) {
    return std::clamp(detail::patchWindowLog(0, targetSize), kStockWindowLog, kMaxWindowLog);
}

// A patch's window must reach from the end of the target back to the start of the base; the
// limit follows from the sizes the signed manifest and the device declare (or the stock window,
// whichever is larger), nothing larger.
int patchWindowLogMax(quint64 baseSize, quint64 targetSize) {
    return std::max(detail::patchWindowLog(baseSize, targetSize), kStockWindowLog);
}

std::unexpected<Error> setupFailed() {
    return fail(QStringLiteral("bundle.decompress-failed"),
                QStringLiteral("Could not set up zstd decompression; the device may be out of "
                               "memory. Free memory and try again."));
}

}  // namespace

struct PayloadDecoder::Impl {
    PayloadEntry entry;
    PayloadSink* target = nullptr;
    std::unique_ptr<ZSTD_DCtx, DctxFree> dctx;
    crypto::Sha256 hash;
    quint64 produced = 0;
    bool frameComplete = false;
    QByteArray buffer;

    std::unexpected<Error> corrupted(const QString& why) const {
        return fail(QStringLiteral("bundle.payload-corrupted"),
                    QStringLiteral("Payload '%1' does not decode to what its signed manifest "
                                   "declares (%2). Discard what was written and fetch the "
                                   "bundle again.")
                        .arg(entry.name, why));
    }

    Status emit(QByteArrayView data) {
        produced += static_cast<quint64>(data.size());
        if (produced > entry.targetSize) {
            return corrupted(QStringLiteral("more than %1 bytes").arg(entry.targetSize));
        }
        hash.update(data);
        return target->write(data);
    }
};

PayloadDecoder::PayloadDecoder(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}
PayloadDecoder::~PayloadDecoder() = default;

Result<std::unique_ptr<PayloadDecoder>> PayloadDecoder::create(const PayloadEntry& entry,
                                                               PayloadSink& target) {
    if (entry.encoding == Encoding::ZstdPatch) {
        return fail(QStringLiteral("bundle.unsupported-encoding"),
                    QStringLiteral("Payload '%1' is a delta (zstd-patch); it must be applied "
                                   "against the installed image, not decoded on its own.")
                        .arg(entry.name));
    }
    return create(entry, target, QByteArrayView());
}

Result<std::unique_ptr<PayloadDecoder>> PayloadDecoder::create(const PayloadEntry& entry,
                                                               PayloadSink& target,
                                                               QByteArrayView base) {
    auto impl = std::make_unique<Impl>();
    impl->entry = entry;
    impl->target = &target;
    if (entry.encoding != Encoding::Raw) {
        const bool patch = entry.encoding == Encoding::ZstdPatch;
        const int windowLog =
            patch ? patchWindowLogMax(static_cast<quint64>(base.size()), entry.targetSize)
                  : payloadWindowLogMax(entry.targetSize);
        impl->dctx.reset(ZSTD_createDCtx());
        if (!impl->dctx || ZSTD_isError(ZSTD_DCtx_setParameter(impl->dctx.get(),
                                                               ZSTD_d_windowLogMax, windowLog))) {
            return setupFailed();
        }
        // The prefix is referenced, not copied: the base stays where the caller mapped it.
        if (patch && !base.isEmpty() &&
            ZSTD_isError(ZSTD_DCtx_refPrefix(impl->dctx.get(), base.data(),
                                             static_cast<size_t>(base.size())))) {
            return setupFailed();
        }
        impl->buffer.resize(static_cast<qsizetype>(ZSTD_DStreamOutSize()));
    }
    return std::unique_ptr<PayloadDecoder>(new PayloadDecoder(std::move(impl)));
}

Status PayloadDecoder::write(QByteArrayView data) {
    if (!d->dctx) {
        return d->emit(data);
    }
    ZSTD_inBuffer input{data.data(), static_cast<size_t>(data.size()), 0};
    while (input.pos < input.size) {
        if (d->frameComplete) {
            return d->corrupted(QStringLiteral("data after the end of the compressed stream"));
        }
        ZSTD_outBuffer output{d->buffer.data(), static_cast<size_t>(d->buffer.size()), 0};
        const size_t hint = ZSTD_decompressStream(d->dctx.get(), &output, &input);
        if (ZSTD_isError(hint)) {
            return d->corrupted(QString::fromLatin1(ZSTD_getErrorName(hint)));
        }
        d->frameComplete = hint == 0;
        if (output.pos > 0) {
            if (auto ok = d->emit(
                    QByteArrayView(d->buffer.constData(), static_cast<qsizetype>(output.pos)));
                !ok) {
                return ok;
            }
        }
    }
    return {};
}

Status PayloadDecoder::finish() {
    if (d->dctx && !d->frameComplete) {
        // Flush anything zstd still holds for an input that ended on a block boundary.
        for (;;) {
            ZSTD_inBuffer input{nullptr, 0, 0};
            ZSTD_outBuffer output{d->buffer.data(), static_cast<size_t>(d->buffer.size()), 0};
            const size_t hint = ZSTD_decompressStream(d->dctx.get(), &output, &input);
            if (ZSTD_isError(hint)) {
                return d->corrupted(QString::fromLatin1(ZSTD_getErrorName(hint)));
            }
            if (output.pos > 0) {
                if (auto ok = d->emit(
                        QByteArrayView(d->buffer.constData(), static_cast<qsizetype>(output.pos)));
                    !ok) {
                    return ok;
                }
            }
            d->frameComplete = hint == 0;
            if (d->frameComplete || output.pos == 0) {
                break;
            }
        }
        if (!d->frameComplete) {
            return d->corrupted(QStringLiteral("the compressed stream ends early"));
        }
    }
    if (d->produced != d->entry.targetSize) {
        return d->corrupted(
            QStringLiteral("%1 bytes instead of %2").arg(d->produced).arg(d->entry.targetSize));
    }
    if (d->hash.finish() != d->entry.targetSha256) {
        return d->corrupted(QStringLiteral("SHA-256 mismatch"));
    }
    return {};
}

}  // namespace otafleet::bundle
