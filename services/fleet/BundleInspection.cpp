#include "fleet/BundleInspection.h"

#include "bundle/Bundle.h"
#include "bundle/BundleVerifier.h"
#include "bundle/McubootImage.h"
#include "common/AtomicFile.h"
#include "crypto/Cms.h"
#include "crypto/Pki.h"

#include <QFile>
#include <QFileInfo>
#include <QtEndian>

namespace otafleet::fleet {

namespace {

void copyManifest(const bundle::Manifest& m, BundleReport& report) {
    report.manifestRead = true;
    report.product = m.product;
    report.version = m.version.toString();
    report.securityVersion = m.securityVersion;
    report.hardware = m.hardware;
    report.created = m.created;
    report.expires = m.expires;
    report.minAgentVersion = m.minAgentVersion.toString();
    report.releaseNotes = m.releaseNotes;
    for (const bundle::PayloadEntry& e : m.payloads) {
        report.payloads.append(BundlePayloadInfo{e.name, e.slotClass, e.size, e.targetSize,
                                                 bundle::encodingName(e.encoding)});
    }
}

BundleSignerInfo signerInfo(const crypto::VerifiedSigner& signer) {
    BundleSignerInfo info;
    info.subject = signer.certificate.subject();
    info.commonName = signer.certificate.commonName();
    info.keyId = signer.certificate.subjectKeyId();
    info.notAfter = signer.certificate.notAfter();
    for (const crypto::Certificate& issuer : signer.chain)
        info.chain.append(issuer.subject());
    return info;
}

BundleReport refused(BundleReport report, const Error& error) {
    report.verdict = BundleReport::Verdict::Refused;
    report.error = error;
    return report;
}

constexpr qint64 kMaxKeyPem = 64 * 1024;

bool looksLikeMcubootImage(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return false;
    const QByteArray head = file.read(4);
    return head.size() == 4 &&
           qFromLittleEndian<quint32>(head.constData()) == bundle::mcuboot::kImageMagic;
}

Error wrongKind(bool mcuDevice) {
    return mcuDevice
               ? Error{QStringLiteral("update.wrong-kind"),
                       QStringLiteral("This device runs MCUboot and takes a signed MCUboot image "
                                      "(made with `otafleetctl mcuboot sign`), not an otafleet "
                                      "bundle; choose the image file.")}
               : Error{QStringLiteral("update.wrong-kind"),
                       QStringLiteral("This is an MCUboot image for a microcontroller; this "
                                      "device runs otafleet-agent and takes a signed bundle "
                                      "(.otab). Choose the bundle.")};
}

// The release key: a PEM file, or the release signer of a PKI directory.
Result<QByteArray> releaseKey(const QString& path) {
    if (QFileInfo(path).isDir()) {
        auto pki = crypto::Pki::open(path);
        if (!pki)
            return fail(pki.error());
        return pki->publicKeyPem(QStringLiteral("release"));
    }
    return readFileBounded(path, kMaxKeyPem);
}

BundleReport inspectMcubootImage(BundleReport report, const BundleCheck& check) {
    namespace mcuboot = bundle::mcuboot;
    report.format = BundleReport::Format::McubootImage;
    if (check.deviceClass == DeviceClass::Linux)
        return refused(std::move(report), wrongKind(false));
    auto image = readFileBounded(check.bundlePath, mcuboot::kMaxImageSize);
    if (!image)
        return refused(std::move(report), image.error());
    // Structure first: a truncated or malformed image is refused whether or not a key is known.
    auto parsed = mcuboot::parseImage(*image);
    if (!parsed)
        return refused(std::move(report), parsed.error());
    report.manifestRead = true;
    report.product = QStringLiteral("MCUboot image");
    // As img_mgmt reports versions (the slot pane shows them so): the build only when not zero.
    const mcuboot::ImageVersion& v = parsed->version;
    report.version = QStringLiteral("%1.%2.%3").arg(v.major).arg(v.minor).arg(v.revision);
    if (v.build != 0)
        report.version += QStringLiteral(".%1").arg(v.build);
    report.imageHash = QString::fromLatin1(parsed->sha256.toHex());
    report.keyHash = QString::fromLatin1(parsed->keyHash.toHex());
    report.payloads.append(BundlePayloadInfo{QStringLiteral("image"), QStringLiteral("secondary"),
                                             quint64(image->size()), quint64(image->size()),
                                             QStringLiteral("raw")});
    if (check.releaseKeyPath.isEmpty()) {
        report.verdict = BundleReport::Verdict::Unchecked;
        report.error = Error{QStringLiteral("fleet.no-release-key"),
                             QStringLiteral("The console has no release key, so it cannot check "
                                            "who signed this image; the device checks it before "
                                            "booting it. Start the console with --pki pointing at "
                                            "the fleet PKI.")};
        return report;
    }
    auto key = releaseKey(check.releaseKeyPath);
    if (!key) {
        report.verdict = BundleReport::Verdict::Unchecked;
        report.error = key.error();
        return report;
    }
    auto verified = mcuboot::verifyImage(*image, *key);
    if (!verified) {
        Error error = verified.error();
        // MCUboot's sentence speaks of "the key given"; here that is the fleet's release key.
        if (error.code == QLatin1String("mcuboot.key-mismatch")) {
            error.message = QStringLiteral(
                "The image was signed with another key than the "
                "fleet's release key, so the device would refuse to "
                "boot it. Sign it with the release key "
                "(otafleetctl mcuboot sign --pki PKI).");
        }
        return refused(std::move(report), error);
    }
    BundleSignerInfo signer;
    signer.commonName = QStringLiteral("the fleet release key");
    signer.subject = signer.commonName;
    signer.keyId = report.keyHash;
    report.signers.append(signer);
    report.verdict = BundleReport::Verdict::Verified;
    return report;
}

}  // namespace

BundleReport inspectBundle(const BundleCheck& check) {
    BundleReport report;
    report.path = check.bundlePath;
    report.deviceId = check.deviceId;
    report.checkedHardware = check.hardware;
    report.checkedSecurityVersion = check.minSecurityVersion;

    if (looksLikeMcubootImage(check.bundlePath))
        return inspectMcubootImage(std::move(report), check);
    if (check.deviceClass == DeviceClass::Mcu)
        return refused(std::move(report), wrongKind(true));

    // The frame and manifest first: a file that is not a bundle has nothing else to show.
    auto reader = bundle::BundleReader::open(check.bundlePath);
    if (!reader)
        return refused(std::move(report), reader.error());
    copyManifest(reader->manifest(), report);

    if (check.trustPemPath.isEmpty() || !QFileInfo::exists(check.trustPemPath)) {
        report.verdict = BundleReport::Verdict::Unchecked;
        report.error = Error{
            QStringLiteral("fleet.no-release-trust"),
            QStringLiteral("The console has no release trust (%1 is missing), so it cannot "
                           "check who signed this bundle; the device checks it before "
                           "installing. Start the console with --pki pointing at the fleet PKI.")
                .arg(check.trustPemPath.isEmpty() ? QStringLiteral("root-ca.pem")
                                                  : check.trustPemPath)};
        return report;
    }
    auto trust = crypto::TrustStore::fromPemFile(check.trustPemPath);
    if (!trust) {
        report.verdict = BundleReport::Verdict::Unchecked;
        report.error = trust.error();
        return report;
    }

    // Who signed it, judged without a device, so the signers show even when this device would
    // refuse the bundle for its own reasons (hardware, rollback).
    bundle::VerifyPolicy general;
    general.trust = *trust;
    general.now = check.now;
    auto metadata = bundle::BundleVerifier::verifyMetadata(*reader, general);
    if (!metadata)
        return refused(std::move(report), metadata.error());
    for (const crypto::VerifiedSigner& signer : metadata->signers)
        report.signers.append(signerInfo(signer));

    // Then exactly what the device will check, payload hashes included.
    bundle::VerifyPolicy device = general;
    device.hardware = check.hardware;
    device.minSecurityVersion = check.minSecurityVersion;
    if (!check.agentVersion.isEmpty()) {
        if (auto agent = SemVer::parse(check.agentVersion))
            device.agentVersion = *agent;
    }
    auto verified = bundle::BundleVerifier::verifyFile(check.bundlePath, device);
    if (!verified)
        return refused(std::move(report), verified.error());
    report.verdict = BundleReport::Verdict::Verified;
    return report;
}

}  // namespace otafleet::fleet
