#include "bundle/Delta.h"

#include "bundle/Bundle.h"
#include "bundle/Logging.h"
#include "bundle/PayloadCompression.h"
#include "bundle/PayloadDecoder.h"
#include "crypto/Sha256.h"

#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QTemporaryFile>

#include <zstd.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace otafleet::bundle {
namespace {

constexpr qsizetype kBlock = 1024 * 1024;

struct CctxFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

std::unexpected<Error> compressFailed(const QString& name, const QString& reason) {
    return fail(QStringLiteral("bundle.compress-failed"),
                QStringLiteral("Could not make the patch for payload '%1' (%2); check free disk "
                               "space and memory.")
                    .arg(name, reason));
}

std::unexpected<Error> corruptedInput(const QString& bundlePath, const QString& name) {
    return fail(QStringLiteral("bundle.payload-corrupted"),
                QStringLiteral("Payload '%1' of %2 does not match its manifest; the bundle is "
                               "damaged. Fetch it again before making a delta from it.")
                    .arg(name, bundlePath));
}

std::unexpected<Error> tempFailed(const QString& outPath, const QString& why) {
    return fail(QStringLiteral("io.write-failed"),
                QStringLiteral("Could not write a temporary file beside %1 (%2); check free disk "
                               "space.")
                    .arg(outPath, why));
}

class NullSink final : public PayloadSink {
public:
    Status write(QByteArrayView /*data*/) override { return {}; }
};

class DeviceSink final : public PayloadSink {
public:
    explicit DeviceSink(QIODevice& out) : m_out(out) {}
    Status write(QByteArrayView data) override {
        if (m_out.write(data.data(), data.size()) != data.size()) {
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("Could not write a temporary file (%1); check free disk "
                                       "space.")
                            .arg(m_out.errorString()));
        }
        return {};
    }

private:
    QIODevice& m_out;
};

// A payload's raw (target) bytes, mapped read-only: straight from the bundle file for a raw
// payload, from a temporary decompressed copy for a zstd one. Pages are file-backed, so the
// kernel can drop them under pressure; nothing is copied onto the heap.
struct RawPayload {
    std::unique_ptr<QFile> file;
    std::unique_ptr<QTemporaryFile> temp;
    QByteArrayView bytes;
};

Result<RawPayload> mapRawPayload(const BundleReader& reader, int index, const QString& tempDir) {
    const PayloadEntry& entry = reader.manifest().payloads.at(index);
    RawPayload raw;
    qint64 offset = 0;
    if (entry.encoding == Encoding::Raw) {
        raw.file = std::make_unique<QFile>(reader.path());
        if (!raw.file->open(QIODevice::ReadOnly)) {
            return fail(QStringLiteral("io.read-failed"),
                        QStringLiteral("Could not read %1 (%2).")
                            .arg(reader.path(), raw.file->errorString()));
        }
        offset = reader.payloadOffset(index);
    } else {
        raw.temp = std::make_unique<QTemporaryFile>(tempDir + QStringLiteral("/.otab-raw-XXXXXX"));
        if (!raw.temp->open()) {
            return tempFailed(tempDir, raw.temp->errorString());
        }
        DeviceSink sink(*raw.temp);
        auto decoder = PayloadDecoder::create(entry, sink);
        if (!decoder) {
            return fail(decoder.error());
        }
        if (auto ok = BundleVerifier::streamPayload(reader, index, **decoder); !ok) {
            return fail(ok.error());
        }
        if (auto ok = (*decoder)->finish(); !ok) {
            return fail(ok.error());
        }
        if (!raw.temp->flush()) {
            return tempFailed(tempDir, raw.temp->errorString());
        }
    }
    if (entry.targetSize == 0) {
        return raw;
    }
    QFile& file = raw.temp ? *raw.temp : *raw.file;
    uchar* mapped = file.map(offset, static_cast<qint64>(entry.targetSize));
    if (!mapped) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not map payload '%1' of %2 (%3).")
                        .arg(entry.name, reader.path(), file.errorString()));
    }
    raw.bytes = QByteArrayView(mapped, static_cast<qsizetype>(entry.targetSize));
    return raw;
}

struct Patch {
    std::unique_ptr<QTemporaryFile> file;
    PayloadEntry entry;
};

// One zstd frame of the target with the base as its prefix; the target's hash is checked on
// the way, so a damaged NEW bundle cannot yield a delta that no device could apply.
Result<Patch> makePatch(const PayloadEntry& baseEntry, QByteArrayView base,
                        const PayloadEntry& targetEntry, QByteArrayView target,
                        const QString& toPath, const QString& tempDir, int level,
                        const std::function<void(qint64)>& advanced) {
    Patch patch;
    patch.entry = targetEntry;
    patch.entry.encoding = Encoding::ZstdPatch;
    patch.entry.size = 0;
    patch.entry.sha256.clear();
    patch.entry.baseSha256 = baseEntry.targetSha256;
    patch.file = std::make_unique<QTemporaryFile>(tempDir + QStringLiteral("/.otab-patch-XXXXXX"));
    if (!patch.file->open()) {
        return tempFailed(tempDir, patch.file->errorString());
    }
    const QString& name = targetEntry.name;
    const int windowLog = detail::patchWindowLog(static_cast<quint64>(base.size()),
                                                 static_cast<quint64>(target.size()));
    const std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
    const auto set = [&](ZSTD_cParameter p, int v) {
        return !ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), p, v));
    };
    if (!cctx || !set(ZSTD_c_compressionLevel, level) || !set(ZSTD_c_checksumFlag, 1) ||
        !set(ZSTD_c_enableLongDistanceMatching, 1) || !set(ZSTD_c_windowLog, windowLog) ||
        ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx.get(),
                                                 static_cast<unsigned long long>(target.size()))) ||
        ZSTD_isError(
            ZSTD_CCtx_refPrefix(cctx.get(), base.data(), static_cast<size_t>(base.size())))) {
        return compressFailed(name, QStringLiteral("zstd could not be set up"));
    }
    crypto::Sha256 targetHash;
    crypto::Sha256 patchHash;
    QByteArray outBuffer(static_cast<qsizetype>(ZSTD_CStreamOutSize()), '\0');
    qsizetype pos = 0;
    for (;;) {
        const QByteArrayView block = target.sliced(pos, std::min(kBlock, target.size() - pos));
        const bool last = pos + block.size() == target.size();
        targetHash.update(block);
        ZSTD_inBuffer input{block.data(), static_cast<size_t>(block.size()), 0};
        for (;;) {
            ZSTD_outBuffer output{outBuffer.data(), static_cast<size_t>(outBuffer.size()), 0};
            const size_t left = ZSTD_compressStream2(cctx.get(), &output, &input,
                                                     last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left)) {
                return compressFailed(name, QString::fromLatin1(ZSTD_getErrorName(left)));
            }
            const QByteArrayView produced(outBuffer.constData(),
                                          static_cast<qsizetype>(output.pos));
            patchHash.update(produced);
            if (patch.file->write(produced.data(), produced.size()) != produced.size()) {
                return tempFailed(tempDir, patch.file->errorString());
            }
            patch.entry.size += output.pos;
            if (last ? left == 0 : input.pos == input.size) {
                break;
            }
        }
        pos += block.size();
        if (advanced) {
            advanced(block.size());
        }
        if (last) {
            break;
        }
    }
    if (targetHash.finish() != targetEntry.targetSha256) {
        return corruptedInput(toPath, name);
    }
    patch.entry.sha256 = patchHash.finish();
    if (!patch.file->flush()) {
        return tempFailed(tempDir, patch.file->errorString());
    }
    return patch;
}

Status checkInputs(const Manifest& from, const Manifest& to, const QString& fromPath,
                   const QString& toPath) {
    for (const auto& [m, path] : {std::pair{&from, fromPath}, std::pair{&to, toPath}}) {
        for (const PayloadEntry& e : m->payloads) {
            if (e.encoding == Encoding::ZstdPatch) {
                return fail(QStringLiteral("bundle.delta-of-delta"),
                            QStringLiteral("%1 is itself a delta bundle; make deltas between two "
                                           "full bundles.")
                                .arg(path));
            }
        }
    }
    QSet<QString> fromNames;
    QSet<QString> toNames;
    for (const PayloadEntry& e : from.payloads) {
        fromNames.insert(e.name);
    }
    for (const PayloadEntry& e : to.payloads) {
        toNames.insert(e.name);
    }
    if (fromNames != toNames) {
        QStringList a = fromNames.values();
        QStringList b = toNames.values();
        a.sort();
        b.sort();
        return fail(
            QStringLiteral("bundle.delta-mismatch"),
            QStringLiteral("The bundles hold different payloads (%1: %2; %3: %4); a delta "
                           "needs the same payload names in both. Ship a full bundle "
                           "instead.")
                .arg(fromPath, a.join(QStringLiteral(", ")), toPath, b.join(QStringLiteral(", "))));
    }
    return {};
}

}  // namespace

Result<QList<DeltaPayloadStats>> createDelta(const QString& fromPath, const QString& toPath,
                                             const QString& outPath, const DeltaOptions& options,
                                             const Progress& progress) {
    const ZSTD_bounds levels = ZSTD_cParam_getBounds(ZSTD_c_compressionLevel);
    if (options.level < 1 || options.level > levels.upperBound) {
        return fail(
            QStringLiteral("bundle.invalid-input"),
            QStringLiteral("The compression level must be 1 to %1.").arg(levels.upperBound));
    }
    auto from = BundleReader::open(fromPath);
    if (!from) {
        return fail(from.error());
    }
    auto to = BundleReader::open(toPath);
    if (!to) {
        return fail(to.error());
    }
    if (auto ok = checkInputs(from->manifest(), to->manifest(), fromPath, toPath); !ok) {
        return fail(ok.error());
    }
    const QString tempDir = QFileInfo(outPath).absolutePath();
    Manifest delta = to->manifest();
    std::vector<Patch> patches;
    QList<DeltaPayloadStats> stats;
    qint64 total = 0;
    for (const PayloadEntry& e : delta.payloads) {
        total += static_cast<qint64>(e.targetSize);
    }
    qint64 done = 0;
    for (int i = 0; i < delta.payloads.size(); ++i) {
        const PayloadEntry& targetEntry = delta.payloads.at(i);
        const auto& fromPayloads = from->manifest().payloads;
        const int baseIndex = static_cast<int>(std::distance(
            fromPayloads.begin(),
            std::find_if(fromPayloads.begin(), fromPayloads.end(),
                         [&](const PayloadEntry& e) { return e.name == targetEntry.name; })));
        const PayloadEntry& baseEntry = fromPayloads.at(baseIndex);
        // One base and one target mapped at a time; both unmapped before the next payload.
        auto base = mapRawPayload(*from, baseIndex, tempDir);
        if (!base) {
            return fail(base.error());
        }
        if (crypto::Sha256::hash(base->bytes) != baseEntry.targetSha256) {
            return corruptedInput(fromPath, baseEntry.name);
        }
        auto target = mapRawPayload(*to, i, tempDir);
        if (!target) {
            return fail(target.error());
        }
        auto patch = makePatch(baseEntry, base->bytes, targetEntry, target->bytes, toPath, tempDir,
                               options.level, [&](qint64 n) {
                                   done += n;
                                   if (progress) {
                                       progress(done, total);
                                   }
                               });
        if (!patch) {
            return fail(patch.error());
        }
        qCInfo(lcBundle) << "delta" << targetEntry.name << baseEntry.targetSize << "->"
                         << targetEntry.targetSize << "bytes, patch" << patch->entry.size;
        stats.append(DeltaPayloadStats{targetEntry.name, baseEntry.targetSize,
                                       targetEntry.targetSize, patch->entry.size});
        delta.payloads[i] = patch->entry;
        patches.push_back(std::move(*patch));
    }
    const QByteArray manifestBytes = delta.serialize();
    if (manifestBytes.size() > Manifest::kMaxSize || !Manifest::parse(manifestBytes)) {
        return fail(QStringLiteral("bundle.invalid-input"),
                    QStringLiteral("The delta's manifest would not be valid; please report "
                                   "this."));
    }
    QList<PayloadSource> sources;
    for (const Patch& p : patches) {
        sources.append(PayloadSource{p.file->fileName(), 0});
    }
    if (auto ok = writeBundle(outPath, manifestBytes, {}, sources); !ok) {
        return fail(ok.error());
    }
    return stats;
}

Status verifyDeltaAgainstBase(const BundleReader& delta, const QString& basePath,
                              const Progress& progress) {
    auto base = BundleReader::open(basePath);
    if (!base) {
        return fail(base.error());
    }
    const QString tempDir = QFileInfo(basePath).absolutePath();
    const auto& basePayloads = base->manifest().payloads;
    const auto& payloads = delta.manifest().payloads;
    const auto total = static_cast<qint64>(delta.manifest().totalPayloadSize());
    qint64 before = 0;
    for (int i = 0; i < payloads.size(); ++i) {
        const PayloadEntry& entry = payloads.at(i);
        if (entry.encoding != Encoding::ZstdPatch) {
            return fail(QStringLiteral("bundle.invalid-input"),
                        QStringLiteral("Payload '%1' of %2 is not a delta; verify the bundle "
                                       "without a base.")
                            .arg(entry.name, delta.path()));
        }
        const auto match =
            std::find_if(basePayloads.begin(), basePayloads.end(), [&](const PayloadEntry& e) {
                return e.name == entry.name && e.encoding != Encoding::ZstdPatch &&
                       e.targetSha256 == entry.baseSha256;
            });
        if (match == basePayloads.end()) {
            return fail(QStringLiteral("bundle.delta-base-mismatch"),
                        QStringLiteral("%1 holds no payload '%2' with the SHA-256 the delta was "
                                       "made against; it is not the delta's base release.")
                            .arg(basePath, entry.name));
        }
        auto raw = mapRawPayload(
            *base, static_cast<int>(std::distance(basePayloads.begin(), match)), tempDir);
        if (!raw) {
            return fail(raw.error());
        }
        NullSink sink;
        auto decoder = PayloadDecoder::create(entry, sink, raw->bytes);
        if (!decoder) {
            return fail(decoder.error());
        }
        const Progress perPayload = [&](qint64 done, qint64 /*payloadTotal*/) {
            if (progress) {
                progress(before + done, total);
            }
        };
        if (auto ok = BundleVerifier::streamPayload(delta, i, **decoder, perPayload); !ok) {
            return ok;
        }
        if (auto ok = (*decoder)->finish(); !ok) {
            return ok;
        }
        before += static_cast<qint64>(entry.size);
    }
    return {};
}

}  // namespace otafleet::bundle
