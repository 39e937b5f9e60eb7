#include "fleet/BundleInspection.h"

#include "bundle/Bundle.h"
#include "bundle/BundleVerifier.h"
#include "crypto/Cms.h"

#include <QFileInfo>

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

}  // namespace

BundleReport inspectBundle(const BundleCheck& check) {
    BundleReport report;
    report.path = check.bundlePath;
    report.deviceId = check.deviceId;
    report.checkedHardware = check.hardware;
    report.checkedSecurityVersion = check.minSecurityVersion;

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
