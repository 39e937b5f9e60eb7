// MCUboot signed images (the format of mcu-tools/mcuboot: docs/design.md "Image Format",
// bootutil/image.h, scripts/imgtool/image.py), so otafleet can sign firmware for
// microcontrollers that boot with MCUboot. An image is: a 32-byte little-endian header at the
// start of a header area, the firmware, an optional protected TLV area (0x6908; never written
// here) and the unprotected TLV area (0x6907) with SHA256 (hash of header area + firmware +
// protected TLVs), KEYHASH (SHA-256 of the signer's SubjectPublicKeyInfo DER) and ECDSA_SIG
// (DER ECDSA P-256 signature of that 32-byte hash). Output matches imgtool's byte for byte except
// for the (randomised) ECDSA signature.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace otafleet::crypto {
class SigningKey;
}

namespace otafleet::bundle::mcuboot {

inline constexpr quint32 kImageMagic = 0x96f3b83d;
inline constexpr quint16 kTlvInfoMagic = 0x6907;      // unprotected TLV area
inline constexpr quint16 kTlvProtInfoMagic = 0x6908;  // protected TLV area (hashed)
inline constexpr quint16 kTlvKeyHash = 0x01;
inline constexpr quint16 kTlvSha256 = 0x10;
inline constexpr quint16 kTlvEcdsaSig = 0x22;  // "ECDSA256" in older imgtool, "ECDSASIG" now
inline constexpr int kHeaderSize = 32;
inline constexpr int kTlvInfoSize = 4;
inline constexpr int kTlvSize = 4;
inline constexpr int kDefaultMaxSectors = 128;  // imgtool's default for the swap status area
inline constexpr int kDefaultMaxAlign = 8;
// Images are read into memory: MCU slots are kilobytes to a few megabytes.
inline constexpr qsizetype kMaxImageSize = 64 * 1024 * 1024;
inline constexpr int kMaxTlvCount = 64;

// ih_ver: "MAJOR.MINOR.REVISION+BUILD" (later parts optional), as imgtool's version.py.
struct ImageVersion {
    quint8 major = 0;
    quint8 minor = 0;
    quint16 revision = 0;
    quint32 build = 0;

    // Error mcuboot.bad-version.
    [[nodiscard]] static Result<ImageVersion> parse(const QString& text);
    [[nodiscard]] QString toString() const;
    bool operator==(const ImageVersion&) const = default;
};

struct SignOptions {
    ImageVersion version;
    quint32 headerSize = kHeaderSize;  // ih_hdr_size; firmware starts here
    quint32 slotSize = 0;              // the image plus the swap trailer must fit
    quint32 align = 1;                 // flash write size: 1, 2, 4, 8, 16 or 32
    // Prepend a header area (filled with the erased value 0xff, as imgtool does); otherwise the
    // input must already start with headerSize zero bytes reserved by the linker.
    bool padHeader = false;
};

// Bytes MCUboot's swap trailer needs at the end of the slot (imgtool's _trailer_size, swap mode
// with 128 sectors): 0 for an invalid alignment.
[[nodiscard]] quint32 trailerSize(quint32 align);

// Signs `firmware` with an ECDSA P-256 key (token or PEM) and returns the image. Errors:
// mcuboot.bad-option, mcuboot.header-not-empty, mcuboot.too-large, mcuboot.unsupported-key,
// mcuboot.sign-failed.
[[nodiscard]] Result<QByteArray> signImage(QByteArrayView firmware, const SignOptions& options,
                                           crypto::SigningKey& key);

struct ImageInfo {
    quint32 loadAddress = 0;
    quint32 headerSize = 0;
    quint32 protectedTlvSize = 0;
    quint32 imageSize = 0;
    quint32 flags = 0;
    ImageVersion version;
    qsizetype hashedSize = 0;  // header area + firmware + protected TLVs
    qsizetype tlvEnd = 0;      // end of the unprotected TLV area; slot padding may follow
    QByteArray sha256;         // from the SHA256 TLV
    QByteArray keyHash;        // from the KEYHASH TLV
    QByteArray signature;      // from the ECDSA_SIG TLV
};

// Structure only, no cryptography: bounded, checks magic numbers, sizes, overlaps and every
// TLV. Errors: mcuboot.bad-magic, mcuboot.truncated, mcuboot.tlv-malformed.
[[nodiscard]] Result<ImageInfo> parseImage(QByteArrayView image);

// parseImage, then the hash, the key hash against `publicKeyPem` (SubjectPublicKeyInfo PEM) and
// the signature. Errors: those of parseImage, mcuboot.bad-key, mcuboot.hash-mismatch,
// mcuboot.key-mismatch, mcuboot.bad-signature.
[[nodiscard]] Result<ImageInfo> verifyImage(QByteArrayView image, QByteArrayView publicKeyPem);

}  // namespace otafleet::bundle::mcuboot
