// otafleet's own SMP management group for factory provisioning (README "SMP provisioning group"
// is the firmware author's reference): a device tells its serial number, makes an identity key it
// never lets go of and hands over a PKCS#10 request for it, and stores the certificate chain the
// factory station's device CA issued. Group 96 lies in Zephyr's per-user range (64 and up; 64
// itself is what samples use, so it is left to them).
#pragma once

#include "common/Error.h"
#include "smp/SmpCommands.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace otafleet::smp::provision {

inline constexpr quint16 kGroup = 96;
inline constexpr quint8 kIdentity = 0;  // read: {"sn", "key", "cert"}
inline constexpr quint8 kCsr = 1;       // read: {"csr": DER PKCS#10}
inline constexpr quint8 kCert = 2;      // write {"chain": [DER, ...]}: stores it
// read: {"format": "mcuboot" | "otab"}: what image upload takes. A device that does not answer
// (MCUboot firmware without this command) takes MCUboot images.
inline constexpr quint8 kImageFormat = 3;

// Bounds a station enforces on what a device hands over, and a device on what it stores.
inline constexpr qsizetype kMaxSerialNumber = 64;
inline constexpr qsizetype kMaxCsr = 4096;
inline constexpr int kMaxChainCertificates = 4;
inline constexpr qsizetype kMaxCertificate = 4096;

// The group's error codes ("err": {"group": 96, "rc": N} in SMP v2; v1 devices answer "rc" with
// an MGMT_ERR_* value instead).
enum class ProvisionRc : int {
    Ok = 0,
    Unknown = 1,
    NoKey = 2,           // "cert" before any "csr": there is no key to certify
    KeyMismatch = 3,     // the leaf certificate is not for the device's key
    BadCertificate = 4,  // a chain entry is not a DER X.509 certificate
    TooLarge = 5,        // more certificates or bytes than the device stores
    KeyFailed = 6,       // the device could not make or keep its key
    StoreFailed = 7,     // the device could not write the chain
};
[[nodiscard]] QString rcName(int rc);  // "no-key", ...

struct Identity {
    QString serialNumber;
    bool hasKey = false;
    bool hasCertificate = false;
};

[[nodiscard]] Request identityRead();
[[nodiscard]] Request csrRead();
// `chainDer`: leaf first, then the issuing CAs (not necessarily the root).
[[nodiscard]] Request certWrite(const QList<QByteArray>& chainDer);
[[nodiscard]] Request imageFormatRead();

// What a device's image upload takes: an MCUboot image (MCU firmware) or an otafleet bundle
// (.otab, a Linux-class device running otafleet-agent).
enum class ImageFormat { Mcuboot, Bundle };
[[nodiscard]] QString imageFormatName(ImageFormat format);  // "mcuboot", "otab"

// Each checks the device's error first (smp.provision.<name>, smp.device.*), then the fields:
// smp.bad-response when they are missing, of the wrong type or out of bounds.
[[nodiscard]] Result<Identity> parseIdentity(const QCborMap& body);
[[nodiscard]] Result<QByteArray> parseCsr(const QCborMap& body);
[[nodiscard]] Status parseCertWrite(const QCborMap& body);
// smp.device.not-supported from a device without the command means ImageFormat::Mcuboot; the
// caller decides (the station does).
[[nodiscard]] Result<ImageFormat> parseImageFormat(const QCborMap& body);

}  // namespace otafleet::smp::provision
