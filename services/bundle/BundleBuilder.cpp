#include "bundle/BundleBuilder.h"

#include "bundle/Bundle.h"
#include "bundle/BundleIo.h"
#include "bundle/Logging.h"
#include "bundle/PayloadCompression.h"
#include "crypto/Cms.h"
#include "crypto/Sha256.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>
#include <QTemporaryFile>

#include <memory>
#include <vector>

namespace otafleet::bundle {
namespace {

constexpr quint64 kMaxInteger = quint64{1} << 53;

std::unexpected<Error> invalidInput(const QString& sentence) {
    return fail(QStringLiteral("bundle.invalid-input"), sentence);
}

bool isNameLike(const QString& text) {
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9._-]{1,64}$"));
    return re.match(text).hasMatch();
}

Status validate(const CreateOptions& o) {
    if (o.product.isEmpty() || o.product.size() > 128) {
        return invalidInput(QStringLiteral("The product name must be 1 to 128 characters."));
    }
    if (o.hardware.isEmpty()) {
        return invalidInput(
            QStringLiteral("Name at least one compatible hardware revision "
                           "(--hardware): a bundle for no hardware could never "
                           "be installed."));
    }
    if (o.hardware.size() > Manifest::kMaxHardware) {
        return invalidInput(QStringLiteral("A bundle can name at most %1 hardware revisions.")
                                .arg(Manifest::kMaxHardware));
    }
    for (const QString& h : o.hardware) {
        if (h.isEmpty() || h.size() > 64) {
            return invalidInput(QStringLiteral("Hardware revision '%1' must be 1 to 64 "
                                               "characters.")
                                    .arg(h.left(80)));
        }
    }
    if (o.securityVersion > kMaxInteger) {
        return invalidInput(QStringLiteral("The security version must be at most 2^53."));
    }
    if (!o.created.isValid() || (o.expires && *o.expires <= o.created)) {
        return invalidInput(
            QStringLiteral("The expiry time must be later than the creation "
                           "time, or the bundle would be refused at once."));
    }
    if (o.signatureArea < 0 || o.signatureArea > crypto::kMaxSignatureSize) {
        return invalidInput(QStringLiteral("The signature area must be 0 to %1 bytes.")
                                .arg(crypto::kMaxSignatureSize));
    }
    if (o.releaseNotes.size() > 64 * 1024) {
        return invalidInput(QStringLiteral("Release notes must be at most 64 KiB of text."));
    }
    if (o.payloads.isEmpty() || o.payloads.size() > Manifest::kMaxPayloads) {
        return invalidInput(QStringLiteral("Give 1 to %1 payloads (--payload NAME=FILE).")
                                .arg(Manifest::kMaxPayloads));
    }
    QSet<QString> names;
    for (const PayloadInput& p : o.payloads) {
        if (!isNameLike(p.name)) {
            return invalidInput(QStringLiteral("Payload name '%1' must be 1 to 64 letters, "
                                               "digits, '.', '_' or '-'.")
                                    .arg(p.name.left(80)));
        }
        if (names.contains(p.name)) {
            return invalidInput(QStringLiteral("Payload name '%1' is given twice; each payload "
                                               "needs its own name.")
                                    .arg(p.name));
        }
        names.insert(p.name);
        if (!isNameLike(p.slotClass)) {
            return invalidInput(QStringLiteral("Slot class '%1' of payload '%2' must be 1 to 64 "
                                               "letters, digits, '.', '_' or '-'.")
                                    .arg(p.slotClass.left(80), p.name));
        }
        if (p.encoding == Encoding::ZstdPatch) {
            return invalidInput(QStringLiteral("Payload '%1': delta payloads are made from two "
                                               "bundles with 'bundle delta', not given as files.")
                                    .arg(p.name));
        }
        const QFileInfo info(p.path);
        if (!info.isFile() || !info.isReadable()) {
            return invalidInput(QStringLiteral("Payload file %1 for '%2' does not exist, is not a "
                                               "regular file or cannot be read; check the path.")
                                    .arg(p.path, p.name));
        }
    }
    return {};
}

}  // namespace

Status createBundle(const CreateOptions& options, const QString& outPath,
                    const std::function<void(qint64, qint64)>& progress) {
    if (auto ok = validate(options); !ok) {
        return ok;
    }
    Manifest m;
    m.product = options.product;
    m.version = options.version;
    m.securityVersion = options.securityVersion;
    m.hardware = options.hardware;
    m.created = options.created.toUTC();
    if (options.expires) {
        m.expires = options.expires->toUTC();
    }
    m.minAgentVersion = options.minAgentVersion;
    m.releaseNotes = options.releaseNotes;
    // Compressed payloads are made first, into temporary files beside the bundle, because their
    // stored size must be in the manifest that precedes them; raw payloads are hashed while
    // they are copied below. Either way each source file is read once.
    std::vector<std::unique_ptr<QTemporaryFile>> compressed(options.payloads.size());
    qint64 total = 0;
    for (int i = 0; i < options.payloads.size(); ++i) {
        const PayloadInput& p = options.payloads.at(i);
        PayloadEntry e;
        e.name = p.name;
        e.slotClass = p.slotClass;
        e.encoding = p.encoding;
        if (p.encoding == Encoding::Zstd) {
            compressed[i] = std::make_unique<QTemporaryFile>(
                QFileInfo(outPath).absolutePath() + QStringLiteral("/.otab-payload-XXXXXX"));
            if (!compressed[i]->open()) {
                return fail(QStringLiteral("io.write-failed"),
                            QStringLiteral("Could not create a temporary file beside %1 (%2).")
                                .arg(outPath, compressed[i]->errorString()));
            }
            auto packed = detail::compressPayload(p.path, *compressed[i]);
            if (!packed) {
                return std::unexpected(packed.error());
            }
            e.size = packed->storedSize;
            e.sha256 = packed->storedSha256;
            e.targetSize = packed->targetSize;
            e.targetSha256 = packed->targetSha256;
            qCInfo(lcBundle) << "compressed" << p.name << packed->targetSize << "->"
                             << packed->storedSize << "bytes";
        } else {
            e.size = static_cast<quint64>(QFileInfo(p.path).size());
            // A placeholder of the same length: hex digests have a fixed width, so the final
            // manifest fits exactly where this one is written.
            e.sha256 = QByteArray(crypto::Sha256::kSize, '\0');
            e.targetSize = e.size;
            e.targetSha256 = e.sha256;
        }
        total += static_cast<qint64>(e.size);
        m.payloads.append(e);
    }
    const QByteArray placeholder = m.serialize();
    if (placeholder.size() > Manifest::kMaxSize) {
        return invalidInput(QStringLiteral("The manifest would exceed %1 bytes; shorten the "
                                           "release notes or the hardware list.")
                                .arg(Manifest::kMaxSize));
    }

    QSaveFile out(outPath);
    if (!out.open(QIODevice::WriteOnly)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not create %1 (%2); check the folder exists and is "
                                   "writable.")
                        .arg(outPath, out.errorString()));
    }
    FrameLayout layout = layoutFor(placeholder.size(), 0);
    layout.signatureArea = options.signatureArea;
    if (auto ok = detail::writeMetadata(out, layout, placeholder, {}); !ok) {
        return ok;
    }
    qint64 done = 0;
    crypto::Sha256 hasher;
    for (int i = 0; i < options.payloads.size(); ++i) {
        const PayloadInput& p = options.payloads.at(i);
        const bool raw = !compressed[i];
        QFile source(p.path);
        QIODevice& in = raw ? static_cast<QIODevice&>(source) : *compressed[i];
        if (raw ? !source.open(QIODevice::ReadOnly) : !compressed[i]->seek(0)) {
            return invalidInput(QStringLiteral("Could not open payload file %1 (%2).")
                                    .arg(p.path, in.errorString()));
        }
        auto copied = detail::copyExactly(
            in, out, static_cast<qint64>(m.payloads.at(i).size), p.path,
            [&](QByteArrayView block) {
                if (raw) {
                    hasher.update(block);
                }
            },
            [&](qint64 n) {
                done += n;
                if (progress) {
                    progress(done, total);
                }
            },
            options.cancelled);
        if (!copied) {
            return copied;
        }
        if (!in.read(1).isEmpty()) {
            return invalidInput(QStringLiteral("Payload file %1 grew while the bundle was "
                                               "written; wait until it is complete and try "
                                               "again.")
                                    .arg(p.path));
        }
        if (raw) {
            m.payloads[i].sha256 = hasher.finish();
            m.payloads[i].targetSha256 = m.payloads.at(i).sha256;
        }
    }
    const QByteArray manifest = m.serialize();
    if (manifest.size() != placeholder.size() || !Manifest::parse(manifest)) {
        return fail(QStringLiteral("bundle.invalid-input"),
                    QStringLiteral("Internal error: the finished manifest does not fit its "
                                   "place. Please report this."));
    }
    if (!out.seek(kHeaderSize) || out.write(manifest) != manifest.size()) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not write %1 (%2); check that the disk is not full.")
                        .arg(outPath, out.errorString()));
    }
    qCInfo(lcBundle) << "created unsigned bundle" << outPath << "with" << m.payloads.size()
                     << "payloads," << total << "bytes";
    return detail::commitAtomically(out, outPath);
}

Status signBundle(const QString& bundlePath, const crypto::SigningKey& key,
                  const crypto::Certificate& signer, const QList<crypto::Certificate>& chain) {
    auto reader = BundleReader::open(bundlePath);
    if (!reader)
        return std::unexpected(reader.error());
    auto signature = reader->signature().isEmpty()
                         ? crypto::signDetached(reader->manifestBytes(), key, signer, chain)
                         : crypto::addSignature(reader->signature(), reader->manifestBytes(), key,
                                                signer, chain);
    if (!signature) {
        return std::unexpected(signature.error());
    }
    qCInfo(lcBundle) << "signing" << bundlePath << "as" << signer.subject() << "with"
                     << key.description();
    const FrameLayout& layout = reader->layout();
    if (layout.version == kContainerVersion && signature->size() <= layout.signatureArea) {
        return replaceSignatureInPlace(*reader, *signature);
    }
    // A format-1 bundle, or one whose signature area is full: one full rewrite, into a layout
    // with room for more signers.
    qCInfo(lcBundle) << "no room for a" << signature->size() << "byte signature in" << bundlePath
                     << "(area" << layout.signatureArea << "bytes): rewriting the bundle once";
    QList<PayloadSource> sources;
    for (int i = 0; i < reader->manifest().payloads.size(); ++i) {
        sources.append(PayloadSource{bundlePath, reader->payloadOffset(i)});
    }
    return writeBundle(bundlePath, reader->manifestBytes(), *signature, sources);
}

}  // namespace otafleet::bundle
