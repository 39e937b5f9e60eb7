// What the console shows about a bundle before anything is pushed: the manifest, who signed it
// (subject, key id, chain, expiry) and the verdict of the same BundleVerifier a device runs,
// checked against the fleet's release trust and, when one is chosen, the target device's
// hardware and stored security version. A plain value type so the UI never sees bundle or
// OpenSSL types (DESIGN.md section 2: ui sees only fleet/ and link/).
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <optional>

namespace otafleet::fleet {

struct BundlePayloadInfo {
    QString name;
    QString slotClass;
    quint64 size = 0;        // bytes stored in the bundle
    quint64 targetSize = 0;  // bytes the device ends up with
    QString encoding;        // "raw", "zstd", "zstd-patch"
};

struct BundleSignerInfo {
    QString subject;     // RFC 2253 one line
    QString commonName;  // for short sentences
    QString keyId;       // subject key identifier, hex
    QStringList chain;   // issuer subjects, the signer's CA first, the trust anchor last
    QDateTime notAfter;  // UTC
};

struct BundleReport {
    // What the file is: an otafleet bundle for Linux-class devices, or an MCUboot image for
    // MCU-class ones (then the manifest fields hold what the image header says: version only).
    enum class Format { Bundle, McubootImage };
    // How the console judged the bundle.
    enum class Verdict {
        Verified,   // signature, chain, payload hashes and (with a device) its rules all hold
        Refused,    // a device would refuse it; `error` says why
        Unchecked,  // the console could not check (no release trust here); the device will
    };

    QString path;
    Format format = Format::Bundle;
    qint64 deviceId = 0;      // 0: checked without a device (a workstation check)
    QString checkedHardware;  // the device's hardware the bundle was checked against
    quint64 checkedSecurityVersion = 0;

    bool manifestRead = false;  // false: the file is not a readable bundle; only `error` is set
    QString product;
    QString version;
    quint64 securityVersion = 0;
    QStringList hardware;
    QDateTime created;
    std::optional<QDateTime> expires;
    QString minAgentVersion;
    QString releaseNotes;
    QList<BundlePayloadInfo> payloads;
    QList<BundleSignerInfo> signers;  // the trusted signers; empty unless the signature verified
    // MCUboot images: the SHA-256 in the image's TLVs (how the device names the image) and the
    // hash of the key that signed it, hex.
    QString imageHash;
    QString keyHash;

    Verdict verdict = Verdict::Unchecked;
    std::optional<Error> error;  // Refused / Unchecked: why

    [[nodiscard]] bool verified() const { return verdict == Verdict::Verified; }
    [[nodiscard]] quint64 totalSize() const;
    // One sentence for people: "Signed by CN — verified for rev-a." or the error's sentence.
    [[nodiscard]] QString verdictSentence() const;
};

}  // namespace otafleet::fleet

Q_DECLARE_METATYPE(otafleet::fleet::BundleReport)
