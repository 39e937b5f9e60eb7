// MCUboot image signing and verification; see McubootImage.h for the format.
#include "bundle/McubootImage.h"

#include "bundle/Logging.h"
#include "crypto/Sha256.h"
#include "crypto/SigningKey.h"

#include <QRegularExpression>
#include <QtEndian>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace otafleet::bundle::mcuboot {
namespace {

// Header field offsets (struct image_header in bootutil/image.h).
constexpr int kOffMagic = 0;
constexpr int kOffLoadAddr = 4;
constexpr int kOffHdrSize = 8;
constexpr int kOffProtectTlvSize = 10;
constexpr int kOffImgSize = 12;
constexpr int kOffFlags = 16;
constexpr int kOffVerMajor = 20;
constexpr int kOffVerMinor = 21;
constexpr int kOffVerRevision = 22;
constexpr int kOffVerBuild = 24;
// A DER ECDSA P-256 signature is at most 72 bytes; imgtool < 1.5 padded it to exactly that.
constexpr int kMaxEcdsaP256SigSize = 72;
constexpr char kErasedValue = '\xff';

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};

const uchar* bytes(QByteArrayView data) {
    return reinterpret_cast<const uchar*>(data.data());
}

quint16 u16(QByteArrayView data, qsizetype offset) {
    return qFromLittleEndian<quint16>(bytes(data) + offset);
}
quint32 u32(QByteArrayView data, qsizetype offset) {
    return qFromLittleEndian<quint32>(bytes(data) + offset);
}
void putU16(QByteArray& data, qsizetype offset, quint16 value) {
    qToLittleEndian(value, reinterpret_cast<uchar*>(data.data()) + offset);
}
void putU32(QByteArray& data, qsizetype offset, quint32 value) {
    qToLittleEndian(value, reinterpret_cast<uchar*>(data.data()) + offset);
}

void appendTlv(QByteArray& area, quint16 type, const QByteArray& value) {
    QByteArray tlv(kTlvSize, '\0');
    putU16(tlv, 0, type);
    putU16(tlv, 2, static_cast<quint16>(value.size()));
    area += tlv;
    area += value;
}

bool isP256(EVP_PKEY* key) {
    return key != nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
           EVP_PKEY_get_bits(key) == 256;
}

// SubjectPublicKeyInfo DER: what imgtool hashes for KEYHASH and MCUboot embeds.
QByteArray publicKeyDer(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(key, &der);
    if (length <= 0) {
        ERR_clear_error();
        return {};
    }
    QByteArray result(reinterpret_cast<const char*>(der), length);
    OPENSSL_free(der);
    return result;
}

std::unexpected<Error> truncated(const QString& what) {
    return fail(QStringLiteral("mcuboot.truncated"),
                QStringLiteral("The MCUboot image ends inside its %1; the file is incomplete. "
                               "Copy or download it again.")
                    .arg(what));
}

std::unexpected<Error> malformed(const QString& what) {
    return fail(QStringLiteral("mcuboot.tlv-malformed"),
                QStringLiteral("The MCUboot image's TLV area is malformed (%1); it was not made "
                               "by imgtool or otafleetctl, or it was damaged.")
                    .arg(what));
}

// Walks the TLVs in [begin, end); calls visit(type, valueOffset, length) for each. Every entry
// must lie inside the area, and the entries must fill it exactly.
template <typename Visit>
Status walkTlvs(QByteArrayView image, qsizetype begin, qsizetype end, Visit&& visit) {
    int count = 0;
    qsizetype offset = begin;
    while (offset < end) {
        if (++count > kMaxTlvCount) {
            return malformed(QStringLiteral("more than %1 entries").arg(kMaxTlvCount));
        }
        if (end - offset < kTlvSize) {
            return malformed(QStringLiteral("an entry header crosses the end of the area"));
        }
        const quint16 type = u16(image, offset);
        const quint16 length = u16(image, offset + 2);
        if (end - offset - kTlvSize < length) {
            return malformed(QStringLiteral("entry 0x%1 is longer than its area")
                                 .arg(type, 2, 16, QLatin1Char('0')));
        }
        if (Status visited = visit(type, offset + kTlvSize, qsizetype(length)); !visited) {
            return visited;
        }
        offset += kTlvSize + length;
    }
    return {};
}

}  // namespace

Result<ImageVersion> ImageVersion::parse(const QString& text) {
    static const QRegularExpression pattern(QStringLiteral(
        R"(^(0|[1-9]\d{0,9})(?:\.(0|[1-9]\d{0,9})(?:\.(0|[1-9]\d{0,9})(?:\+(0|[1-9]\d{0,9}))?)?)?$)"));
    const QRegularExpressionMatch match = pattern.match(text);
    const auto bad = [&text](const QString& why) {
        return fail(QStringLiteral("mcuboot.bad-version"),
                    QStringLiteral("'%1' is not an MCUboot version (%2); write MAJOR.MINOR."
                                   "REVISION+BUILD, e.g. 1.2.3+4, with major and minor up to "
                                   "255, revision up to 65535.")
                        .arg(text, why));
    };
    if (!match.hasMatch()) {
        return bad(QStringLiteral("not of the form 1.2.3+4"));
    }
    const auto number = [&match](int group) { return match.captured(group).toULongLong(); };
    if (number(1) > 0xff || number(2) > 0xff || number(3) > 0xffff || number(4) > 0xffffffffULL) {
        return bad(QStringLiteral("a part is too large"));
    }
    ImageVersion version;
    version.major = static_cast<quint8>(number(1));
    version.minor = static_cast<quint8>(number(2));
    version.revision = static_cast<quint16>(number(3));
    version.build = static_cast<quint32>(number(4));
    return version;
}

QString ImageVersion::toString() const {
    return QStringLiteral("%1.%2.%3+%4").arg(major).arg(minor).arg(revision).arg(build);
}

quint32 trailerSize(quint32 align) {
    constexpr quint32 kMagicSize = 16;
    if (align == 0 || align > 32 || (align & (align - 1)) != 0) {
        return 0;
    }
    const quint32 maxAlign = std::max<quint32>(kDefaultMaxAlign, align);
    const quint32 magicAligned = (kMagicSize + maxAlign - 1) & ~(maxAlign - 1);
    // Swap status area, image_ok/copy_done/swap_info/swap_size, magic.
    return kDefaultMaxSectors * 3 * align + maxAlign * 4 + magicAligned;
}

Result<QByteArray> signImage(QByteArrayView firmware, const SignOptions& options,
                             crypto::SigningKey& key) {
    const auto badOption = [](const QString& message) {
        return fail(QStringLiteral("mcuboot.bad-option"), message);
    };
    if (options.headerSize < kHeaderSize || options.headerSize > 0xffff) {
        return badOption(
            QStringLiteral("--header-size must be between 32 and 65535 bytes (the "
                           "value the bootloader was built with, often 0x200)."));
    }
    if (trailerSize(options.align) == 0) {
        return badOption(
            QStringLiteral("--align must be 1, 2, 4, 8, 16 or 32 (the flash write "
                           "size)."));
    }
    if (options.slotSize == 0) {
        return badOption(
            QStringLiteral("--slot-size must be the size of the image slot in "
                           "bytes."));
    }
    if (firmware.size() > kMaxImageSize) {
        return fail(QStringLiteral("mcuboot.too-large"),
                    QStringLiteral("The firmware is larger than %1 bytes, more than any MCUboot "
                                   "slot holds.")
                        .arg(kMaxImageSize));
    }
    if (!isP256(key.evpKey())) {
        return fail(QStringLiteral("mcuboot.unsupported-key"),
                    QStringLiteral("%1 is not an ECDSA P-256 key; MCUboot images are signed "
                                   "here with ECDSA P-256 only.")
                        .arg(key.description()));
    }

    QByteArray image;
    if (options.padHeader) {
        image = QByteArray(qsizetype(options.headerSize), kErasedValue);
        image += firmware;
    } else {
        const QByteArrayView area =
            firmware.first(std::min<qsizetype>(firmware.size(), qsizetype(options.headerSize)));
        if (firmware.size() < qsizetype(options.headerSize) ||
            std::any_of(area.begin(), area.end(), [](char c) { return c != '\0'; })) {
            return fail(QStringLiteral("mcuboot.header-not-empty"),
                        QStringLiteral("The input does not start with %1 zero bytes for the "
                                       "MCUboot header; link the firmware with that gap or pass "
                                       "--pad-header.")
                            .arg(options.headerSize));
        }
        image = firmware.toByteArray();
    }
    putU32(image, kOffMagic, kImageMagic);
    putU32(image, kOffLoadAddr, 0);
    putU16(image, kOffHdrSize, static_cast<quint16>(options.headerSize));
    putU16(image, kOffProtectTlvSize, 0);
    putU32(image, kOffImgSize, static_cast<quint32>(image.size() - options.headerSize));
    putU32(image, kOffFlags, 0);
    image[kOffVerMajor] = static_cast<char>(options.version.major);
    image[kOffVerMinor] = static_cast<char>(options.version.minor);
    putU16(image, kOffVerRevision, options.version.revision);
    putU32(image, kOffVerBuild, options.version.build);
    putU32(image, kOffVerBuild + 4, 0);  // _pad1

    const QByteArray digest = crypto::Sha256::hash(image);
    const QByteArray publicDer = publicKeyDer(key.evpKey());
    // bootutil verifies ECDSA over the 32-byte image hash: a P-256 key signs SHA-256(image),
    // which is that digest (a token does CKM_ECDSA on it, hashing stays outside).
    auto signature = key.sign(image);
    if (publicDer.isEmpty() || !signature) {
        return fail(QStringLiteral("mcuboot.sign-failed"),
                    QStringLiteral("Could not sign with %1 (%2); check that the key is usable "
                                   "for signing and the token is present.")
                        .arg(key.description(), signature ? QStringLiteral("no public key")
                                                          : signature.error().message));
    }

    QByteArray tlvs(kTlvInfoSize, '\0');
    appendTlv(tlvs, kTlvSha256, digest);
    appendTlv(tlvs, kTlvKeyHash, crypto::Sha256::hash(publicDer));
    appendTlv(tlvs, kTlvEcdsaSig, *signature);
    putU16(tlvs, 0, kTlvInfoMagic);
    putU16(tlvs, 2, static_cast<quint16>(tlvs.size()));
    image += tlvs;

    const qint64 needed = qint64(image.size()) + trailerSize(options.align);
    if (needed > qint64(options.slotSize)) {
        return fail(QStringLiteral("mcuboot.too-large"),
                    QStringLiteral("The signed image (%1 bytes) and MCUboot's trailer (%2 bytes) "
                                   "do not fit the %3-byte slot; shrink the firmware or check "
                                   "--slot-size.")
                        .arg(image.size())
                        .arg(trailerSize(options.align))
                        .arg(options.slotSize));
    }
    qCInfo(lcBundle) << "signed MCUboot image" << options.version.toString() << image.size()
                     << "bytes with" << key.description();
    return image;
}

Result<ImageInfo> parseImage(QByteArrayView image) {
    if (image.size() > kMaxImageSize) {
        return fail(QStringLiteral("mcuboot.too-large"),
                    QStringLiteral("The file is larger than %1 bytes, more than any MCUboot slot "
                                   "holds; it is not an MCUboot image.")
                        .arg(kMaxImageSize));
    }
    if (image.size() < kHeaderSize) {
        return truncated(QStringLiteral("header"));
    }
    if (u32(image, kOffMagic) != kImageMagic) {
        return fail(QStringLiteral("mcuboot.bad-magic"),
                    QStringLiteral("The file does not start with MCUboot's image magic; it is "
                                   "not a signed MCUboot image."));
    }
    ImageInfo info;
    info.loadAddress = u32(image, kOffLoadAddr);
    info.headerSize = u16(image, kOffHdrSize);
    info.protectedTlvSize = u16(image, kOffProtectTlvSize);
    info.imageSize = u32(image, kOffImgSize);
    info.flags = u32(image, kOffFlags);
    info.version.major = static_cast<quint8>(image[kOffVerMajor]);
    info.version.minor = static_cast<quint8>(image[kOffVerMinor]);
    info.version.revision = u16(image, kOffVerRevision);
    info.version.build = u32(image, kOffVerBuild);
    if (info.headerSize < kHeaderSize) {
        return malformed(QStringLiteral("header size %1 is below 32").arg(info.headerSize));
    }
    // 64-bit sums: ih_img_size is attacker-chosen and must not wrap.
    qint64 offset = qint64(info.headerSize) + info.imageSize;
    if (offset > image.size()) {
        return truncated(QStringLiteral("firmware"));
    }
    if (info.protectedTlvSize != 0) {
        if (info.protectedTlvSize < kTlvInfoSize) {
            return malformed(QStringLiteral("protected area smaller than its header"));
        }
        if (offset + kTlvInfoSize > image.size()) {
            return truncated(QStringLiteral("protected TLV area"));
        }
        if (u16(image, offset) != kTlvProtInfoMagic ||
            u16(image, offset + 2) != info.protectedTlvSize) {
            return malformed(
                QStringLiteral("protected area header does not match the image "
                               "header"));
        }
        if (offset + info.protectedTlvSize > image.size()) {
            return truncated(QStringLiteral("protected TLV area"));
        }
        const Status walked = walkTlvs(image, offset + kTlvInfoSize, offset + info.protectedTlvSize,
                                       [](quint16, qsizetype, qsizetype) { return Status{}; });
        if (!walked) {
            return fail(walked.error());
        }
        offset += info.protectedTlvSize;
    }
    info.hashedSize = offset;
    if (offset + kTlvInfoSize > image.size()) {
        return truncated(QStringLiteral("TLV area"));
    }
    const quint16 magic = u16(image, offset);
    if (magic != kTlvInfoMagic) {
        return malformed(magic == kTlvProtInfoMagic
                             ? QStringLiteral("protected area not declared in the header")
                             : QStringLiteral("no TLV area magic after the firmware"));
    }
    const quint16 total = u16(image, offset + 2);
    if (total < kTlvInfoSize) {
        return malformed(QStringLiteral("area length %1").arg(total));
    }
    if (offset + total > image.size()) {
        return truncated(QStringLiteral("TLV area"));
    }
    info.tlvEnd = offset + total;
    const auto take = [&](QByteArray& field, qsizetype valueOffset, qsizetype length,
                          qsizetype minLength, qsizetype maxLength, const QString& name) -> Status {
        if (!field.isNull()) {
            return malformed(QStringLiteral("two %1 entries").arg(name));
        }
        if (length < minLength || length > maxLength) {
            return malformed(QStringLiteral("%1 entry of %2 bytes").arg(name).arg(length));
        }
        field = image.sliced(valueOffset, length).toByteArray();
        return {};
    };
    const Status walked =
        walkTlvs(image, offset + kTlvInfoSize, info.tlvEnd,
                 [&](quint16 type, qsizetype valueOffset, qsizetype length) -> Status {
                     switch (type) {
                         case kTlvSha256:
                             return take(info.sha256, valueOffset, length, crypto::Sha256::kSize,
                                         crypto::Sha256::kSize, QStringLiteral("SHA256"));
                         case kTlvKeyHash:
                             return take(info.keyHash, valueOffset, length, crypto::Sha256::kSize,
                                         crypto::Sha256::kSize, QStringLiteral("KEYHASH"));
                         case kTlvEcdsaSig:
                             return take(info.signature, valueOffset, length, 8,
                                         kMaxEcdsaP256SigSize, QStringLiteral("ECDSA_SIG"));
                         default:
                             return {};  // other TLVs (encryption, ...) are not ours to judge
                     }
                 });
    if (!walked) {
        return fail(walked.error());
    }
    return info;
}

Result<ImageInfo> verifyImage(QByteArrayView image, QByteArrayView publicKeyPem) {
    auto info = parseImage(image);
    if (!info) {
        return info;
    }
    if (info->sha256.isNull()) {
        return malformed(QStringLiteral("no SHA256 entry"));
    }
    if (info->keyHash.isNull() || info->signature.isNull()) {
        return fail(QStringLiteral("mcuboot.unsigned"),
                    QStringLiteral("The MCUboot image carries no key hash or signature; sign it "
                                   "with 'otafleetctl mcuboot sign'."));
    }
    const QByteArray digest = crypto::Sha256::hash(image.first(info->hashedSize));
    if (digest != info->sha256) {
        return fail(QStringLiteral("mcuboot.hash-mismatch"),
                    QStringLiteral("The MCUboot image's content does not match its SHA-256; it "
                                   "was modified or damaged after signing. Do not install it."));
    }
    // The key is read only for an image whose structure and hash hold: reading a PEM key is
    // the costliest step before the signature, and a damaged image needs no key to be refused.
    const std::unique_ptr<BIO, BioFree> bio(
        BIO_new_mem_buf(publicKeyPem.data(), static_cast<int>(publicKeyPem.size())));
    const std::unique_ptr<EVP_PKEY, PkeyFree> publicKey(
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!isP256(publicKey.get())) {
        return fail(QStringLiteral("mcuboot.bad-key"),
                    QStringLiteral("The public key is not an ECDSA P-256 SubjectPublicKeyInfo "
                                   "PEM; export it with 'otafleetctl pki export-public' or "
                                   "'imgtool getpub --encoding pem'."));
    }
    if (crypto::Sha256::hash(publicKeyDer(publicKey.get())) != info->keyHash) {
        return fail(QStringLiteral("mcuboot.key-mismatch"),
                    QStringLiteral("The MCUboot image was signed for another key than the one "
                                   "given; check that you passed the right public key."));
    }
    // imgtool before MCUboot 1.5 padded the DER signature with zeros to 72 bytes.
    QByteArray signature = info->signature;
    const auto derLength = qsizetype(quint8(signature.at(1))) + 2;
    if (signature.at(0) == '\x30' && derLength < signature.size() &&
        std::all_of(signature.begin() + derLength, signature.end(),
                    [](char c) { return c == '\0'; })) {
        signature.truncate(derLength);
    }
    const std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
        EVP_PKEY_CTX_new(publicKey.get(), nullptr));
    const bool valid = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
                       EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
                       EVP_PKEY_verify(ctx.get(), bytes(signature), size_t(signature.size()),
                                       bytes(digest), size_t(digest.size())) == 1;
    ERR_clear_error();
    if (!valid) {
        return fail(QStringLiteral("mcuboot.bad-signature"),
                    QStringLiteral("The MCUboot image's signature does not verify with the given "
                                   "key; it was forged or damaged. Do not install it."));
    }
    return info;
}

}  // namespace otafleet::bundle::mcuboot
