// otafleetctl bundle ...: create, sign, verify and inspect .otab update bundles.
#include "Cli.h"

#include "bundle/Bundle.h"
#include "bundle/BundleBuilder.h"
#include "bundle/BundleVerifier.h"
#include "bundle/Delta.h"
#include "common/AtomicFile.h"
#include "crypto/Pki.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

namespace otafleet::cli {
namespace {

const QCommandLineOption kPayload(QStringLiteral("payload"),
                                  QStringLiteral("A payload as NAME=FILE (repeatable); it goes to "
                                                 "the slot class NAME unless NAME:CLASS=FILE."),
                                  QStringLiteral("NAME=FILE"));
const QCommandLineOption kVersion(QStringLiteral("version"),
                                  QStringLiteral("Firmware version (SemVer)."),
                                  QStringLiteral("V"));
const QCommandLineOption kHardware(
    QStringLiteral("hardware"), QStringLiteral("Compatible hardware revisions, comma-separated."),
    QStringLiteral("H[,H]"));
const QCommandLineOption kSecurityVersion(QStringLiteral("security-version"),
                                          QStringLiteral("Anti-rollback counter; devices refuse "
                                                         "lower ones."),
                                          QStringLiteral("N"));
const QCommandLineOption kExpires(QStringLiteral("expires"),
                                  QStringLiteral("Expiry as ISO 8601 UTC (2027-01-31T00:00:00Z); "
                                                 "devices refuse the bundle afterwards. Default: "
                                                 "365 days after creation."),
                                  QStringLiteral("ISO"));
const QCommandLineOption kNoExpiry(QStringLiteral("no-expiry"),
                                   QStringLiteral("Make a bundle that never expires (it can then "
                                                  "be replayed to devices forever)."));
constexpr int kDefaultValidityDays = 365;
const QCommandLineOption kCreated(QStringLiteral("created"),
                                  QStringLiteral("Creation time as ISO 8601 UTC (default: now); "
                                                 "fix it for reproducible builds."),
                                  QStringLiteral("ISO"));
const QCommandLineOption kCompress(QStringLiteral("compress"),
                                   QStringLiteral("Store payloads zstd-compressed; devices "
                                                  "decompress them while installing."));
const QCommandLineOption kBase(QStringLiteral("base"),
                               QStringLiteral("For a delta bundle: also check that it turns this "
                                              "bundle's payloads into the signed targets."),
                               QStringLiteral("OLD.otab"));
const QCommandLineOption kProduct(QStringLiteral("product"), QStringLiteral("Product name."),
                                  QStringLiteral("NAME"), QStringLiteral("otafleet-firmware"));
const QCommandLineOption kNotes(QStringLiteral("release-notes"), QStringLiteral("Release notes."),
                                QStringLiteral("TEXT"));
const QCommandLineOption kOut(QStringList{QStringLiteral("o"), QStringLiteral("output")},
                              QStringLiteral("Output file."), QStringLiteral("OUT"));
const QCommandLineOption kPki(QStringLiteral("pki"),
                              QStringLiteral("PKI directory made by 'pki init': its release signer "
                                             "or root CA."),
                              QStringLiteral("PKI"));
const QCommandLineOption kSigner(QStringLiteral("signer"),
                                 QStringLiteral("With --pki: the release signer to sign as ('pki "
                                                "list'; default release, made by 'pki init')."),
                                 QStringLiteral("NAME"), QStringLiteral("release"));
const QCommandLineOption kCrl(QStringLiteral("crl"),
                              QStringLiteral("Revocation list from 'pki crl' (repeatable); signers "
                                             "it lists are refused."),
                              QStringLiteral("CRL.pem"));
const QCommandLineOption kKey(QStringLiteral("key"),
                              QStringLiteral("Signing key: a pkcs11: URI or a PEM file."),
                              QStringLiteral("pkcs11:URI|FILE.pem"));
const QCommandLineOption kCert(QStringLiteral("cert"),
                               QStringLiteral("Signer certificate PEM (leaf first, then its CA "
                                              "chain)."),
                               QStringLiteral("CERT.pem"));
const QCommandLineOption kModule(QStringLiteral("pkcs11-module"),
                                 QStringLiteral("PKCS#11 module for a pkcs11: key."),
                                 QStringLiteral("SO"));
const QCommandLineOption kPinEnv(QStringLiteral("pin-env"),
                                 QStringLiteral("Read the token PIN from this environment "
                                                "variable instead of asking."),
                                 QStringLiteral("VAR"));
const QCommandLineOption kTrust(QStringLiteral("trust"),
                                QStringLiteral("Trust anchor(s) PEM (the fleet root CA)."),
                                QStringLiteral("ROOT.pem"));
const QCommandLineOption kMinSecurity(QStringLiteral("min-security-version"),
                                      QStringLiteral("Refuse bundles below this security "
                                                     "version."),
                                      QStringLiteral("N"), QStringLiteral("0"));
const QCommandLineOption kThreshold(QStringLiteral("threshold"),
                                    QStringLiteral("Distinct trusted signers required."),
                                    QStringLiteral("K"), QStringLiteral("1"));
const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON."));
const QCommandLineOption kExtractManifest(QStringLiteral("extract-manifest"),
                                          QStringLiteral("Write the manifest's exact signed bytes "
                                                         "to F."),
                                          QStringLiteral("F"));
const QCommandLineOption kExtractSignature(QStringLiteral("extract-signature"),
                                           QStringLiteral("Write the detached CMS signature (DER) "
                                                          "to F."),
                                           QStringLiteral("F"));

Result<quint64> parseCount(const QString& text, const QString& option) {
    bool ok = false;
    const quint64 value = text.toULongLong(&ok);
    if (!ok) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("--%1 takes a whole number, not '%2'.").arg(option, text));
    }
    return value;
}

Result<QDateTime> parseTimestamp(const QString& text) {
    QDateTime t = QDateTime::fromString(text, Qt::ISODate);
    if (!t.isValid() || t.timeSpec() == Qt::LocalTime) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("'%1' is not an ISO 8601 time with a zone; write it like "
                                   "2027-01-31T00:00:00Z.")
                        .arg(text));
    }
    return t.toUTC();
}

QJsonObject signerJson(const crypto::VerifiedSigner& signer) {
    return QJsonObject{
        {QStringLiteral("subject"), signer.certificate.subject()},
        {QStringLiteral("key_id"), signer.certificate.subjectKeyId()},
        {QStringLiteral("issuer"), signer.certificate.issuer()},
        {QStringLiteral("not_after"), signer.certificate.notAfter().toString(Qt::ISODate)}};
}

int runCreate(const QCommandLineParser& p) {
    if (!p.isSet(kOut) || !p.isSet(kVersion) || !p.isSet(kHardware) || !p.isSet(kSecurityVersion) ||
        !p.isSet(kPayload)) {
        return usageError(
            QStringLiteral("bundle create needs --payload NAME=FILE, --version, "
                           "--hardware, --security-version and -o OUT.otab"));
    }
    bundle::CreateOptions options;
    options.product = p.value(kProduct);
    options.releaseNotes = p.value(kNotes);
    const auto version = SemVer::parse(p.value(kVersion));
    if (!version) {
        return failWith(version.error());
    }
    options.version = *version;
    const auto security = parseCount(p.value(kSecurityVersion), QStringLiteral("security-version"));
    if (!security) {
        return usageError(security.error().message);
    }
    options.securityVersion = *security;
    options.hardware = p.value(kHardware).split(QLatin1Char(','), Qt::SkipEmptyParts);
    if (p.isSet(kExpires) && p.isSet(kNoExpiry)) {
        return usageError(QStringLiteral("--expires and --no-expiry contradict each other"));
    }
    if (p.isSet(kCreated)) {
        const auto created = parseTimestamp(p.value(kCreated));
        if (!created) {
            return usageError(created.error().message);
        }
        options.created = *created;
    }
    // Freeze protection by default: an old bundle cannot be replayed to devices forever.
    if (p.isSet(kExpires)) {
        const auto expires = parseTimestamp(p.value(kExpires));
        if (!expires) {
            return usageError(expires.error().message);
        }
        options.expires = *expires;
    } else if (!p.isSet(kNoExpiry)) {
        options.expires = options.created.addDays(kDefaultValidityDays);
    }
    for (const QString& spec : p.values(kPayload)) {
        const qsizetype eq = spec.indexOf(QLatin1Char('='));
        if (eq <= 0 || eq == spec.size() - 1) {
            return usageError(QStringLiteral("--payload takes NAME=FILE, not '%1'").arg(spec));
        }
        bundle::PayloadInput input;
        const QString name = spec.left(eq);
        const qsizetype colon = name.indexOf(QLatin1Char(':'));
        input.name = colon < 0 ? name : name.left(colon);
        input.slotClass = colon < 0 ? QStringLiteral("rootfs") : name.mid(colon + 1);
        input.path = spec.mid(eq + 1);
        input.encoding = p.isSet(kCompress) ? bundle::Encoding::Zstd : bundle::Encoding::Raw;
        options.payloads.append(input);
    }
    ProgressPrinter progress(QStringLiteral("Hashing and writing payloads"));
    const auto created = bundle::createBundle(
        options, p.value(kOut), [&](qint64 done, qint64 total) { progress.update(done, total); });
    progress.finish();
    if (!created) {
        return failWith(created.error());
    }
    printText(QStringLiteral("Wrote %1 (%2 %3, unsigned). Sign it with 'otafleetctl bundle sign'.")
                  .arg(p.value(kOut), options.product, options.version.toString()));
    return kSuccess;
}

int runSign(const QCommandLineParser& p) {
    const QStringList positional = p.positionalArguments();
    if (positional.size() != 1) {
        return usageError(QStringLiteral("bundle sign takes exactly one bundle file"));
    }
    if (p.isSet(kPki) == p.isSet(kKey) || p.isSet(kKey) != p.isSet(kCert)) {
        return usageError(
            QStringLiteral("bundle sign needs either --pki PKI or --key REF with "
                           "--cert CERT.pem"));
    }
    if (p.isSet(kSigner) && !p.isSet(kPki)) {
        return usageError(QStringLiteral("--signer names a signer of --pki PKI"));
    }
    const QString pkiDir = p.value(kPki);
    const QString signerName = p.value(kSigner);
    auto key = openSigningKey(
        KeySource{pkiDir, signerName, p.value(kKey), p.value(kModule), p.value(kPinEnv)});
    if (!key) {
        return failWith(key.error());
    }
    crypto::Certificate signer;
    QList<crypto::Certificate> chain;
    if (!pkiDir.isEmpty()) {
        const auto pki = crypto::Pki::open(pkiDir);  // openSigningKey opened it already
        if (!pki) {
            return failWith(pki.error());
        }
        auto cert = pki->signerCertificate(signerName);
        auto certChain = pki->signerChain(signerName);
        if (!cert || !certChain) {
            return failWith(!cert ? cert.error() : certChain.error());
        }
        signer = *cert;
        chain = *certChain;
    } else {
        auto certs = crypto::Certificate::loadPemFile(p.value(kCert));
        if (!certs) {
            return failWith(certs.error());
        }
        if (certs->isEmpty()) {
            return failWith(Error{QStringLiteral("crypto.certificate-missing"),
                                  QStringLiteral("%1 holds no certificate; give the signer's "
                                                 "certificate PEM.")
                                      .arg(p.value(kCert))});
        }
        signer = certs->takeFirst();
        chain = *certs;
    }
    if (const auto signedBundle = bundle::signBundle(positional.first(), **key, signer, chain);
        !signedBundle) {
        return failWith(signedBundle.error());
    }
    printText(QStringLiteral("Signed %1 as %2.").arg(positional.first(), signer.subject()));
    return kSuccess;
}

int runVerify(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    const QStringList positional = p.positionalArguments();
    if (positional.size() != 1 || p.isSet(kPki) == p.isSet(kTrust)) {
        return usageError(
            QStringLiteral("bundle verify takes one bundle and either --pki PKI or "
                           "--trust ROOT.pem"));
    }
    bundle::VerifyPolicy policy;
    if (p.isSet(kPki)) {
        const auto pki = crypto::Pki::open(p.value(kPki));
        if (!pki) {
            return failWith(pki.error(), json);
        }
        auto trust = pki->releaseTrust();
        if (!trust) {
            return failWith(trust.error(), json);
        }
        policy.trust = *trust;
    } else {
        auto trust = crypto::TrustStore::fromPemFile(p.value(kTrust));
        if (!trust) {
            return failWith(trust.error(), json);
        }
        policy.trust = *trust;
    }
    if (const auto crls = policy.trust.addCrlFiles(p.values(kCrl)); !crls) {
        return failWith(crls.error(), json);
    }
    policy.hardware = p.value(kHardware);
    const auto minSecurity =
        parseCount(p.value(kMinSecurity), QStringLiteral("min-security-version"));
    const auto threshold = parseCount(p.value(kThreshold), QStringLiteral("threshold"));
    if (!minSecurity || !threshold || *threshold < 1 || *threshold > 16) {
        return usageError(
            QStringLiteral("--min-security-version takes a whole number and "
                           "--threshold a number from 1 to 16"));
    }
    policy.minSecurityVersion = *minSecurity;
    policy.threshold = static_cast<int>(*threshold);

    ProgressPrinter progress(QStringLiteral("Verifying payloads"));
    const auto verified = bundle::BundleVerifier::verifyFile(
        positional.first(), policy,
        [&](qint64 done, qint64 total) { progress.update(done, total); });
    progress.finish();
    if (!verified) {
        if (json) {
            printJson(
                QJsonObject{{QStringLiteral("valid"), false},
                            {QStringLiteral("error"),
                             QJsonObject{{QStringLiteral("code"), verified.error().code},
                                         {QStringLiteral("message"), verified.error().message}}}});
        }
        printError(verified.error());
        return kFailure;
    }
    const bundle::Manifest& m = verified->manifest;
    const bool isDelta = std::any_of(m.payloads.begin(), m.payloads.end(), [](const auto& e) {
        return e.encoding == bundle::Encoding::ZstdPatch;
    });
    if (p.isSet(kBase)) {
        if (!isDelta) {
            return usageError(QStringLiteral("--base is for delta bundles; this one is not"));
        }
        const auto reader = bundle::BundleReader::open(positional.first());
        if (!reader) {
            return failWith(reader.error(), json);
        }
        if (const auto applied = bundle::verifyDeltaAgainstBase(*reader, p.value(kBase));
            !applied) {
            return failWith(applied.error(), json);
        }
    }
    if (json) {
        QJsonArray signers;
        for (const auto& s : verified->signers) {
            signers.append(signerJson(s));
        }
        printJson(QJsonObject{
            {QStringLiteral("valid"), true},
            {QStringLiteral("product"), m.product},
            {QStringLiteral("version"), m.version.toString()},
            {QStringLiteral("security_version"), static_cast<qint64>(m.securityVersion)},
            {QStringLiteral("signers"), signers}});
    } else {
        QStringList names;
        for (const auto& s : verified->signers) {
            names << s.certificate.subject();
        }
        printText(QStringLiteral("OK: %1 %2 (security version %3), signed by %4.")
                      .arg(m.product, m.version.toString())
                      .arg(m.securityVersion)
                      .arg(names.join(QStringLiteral("; "))));
        if (isDelta && !p.isSet(kBase)) {
            printText(
                QStringLiteral("Delta bundle: the patch bytes match the signed manifest; the "
                               "image it produces is checked against its base on the "
                               "device, or here with --base OLD.otab."));
        }
    }
    return kSuccess;
}

int runInspect(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    const QStringList positional = p.positionalArguments();
    if (positional.size() != 1) {
        return usageError(QStringLiteral("bundle inspect takes exactly one bundle file"));
    }
    const auto reader = bundle::BundleReader::open(positional.first());
    if (!reader) {
        return failWith(reader.error(), json);
    }
    if (p.isSet(kExtractManifest)) {
        if (const auto s = writeFileAtomically(p.value(kExtractManifest), reader->manifestBytes());
            !s) {
            return failWith(s.error(), json);
        }
    }
    if (p.isSet(kExtractSignature)) {
        if (reader->signature().isEmpty()) {
            return failWith(Error{QStringLiteral("bundle.unsigned"),
                                  QStringLiteral("%1 has no signature to extract; sign it with "
                                                 "'otafleetctl bundle sign' first.")
                                      .arg(positional.first())},
                            json);
        }
        if (const auto s = writeFileAtomically(p.value(kExtractSignature), reader->signature());
            !s) {
            return failWith(s.error(), json);
        }
    }
    const bundle::Manifest& m = reader->manifest();
    if (json) {
        const QJsonObject manifest = QJsonDocument::fromJson(reader->manifestBytes()).object();
        printJson(QJsonObject{{QStringLiteral("file"), positional.first()},
                              {QStringLiteral("size"), reader->fileSize()},
                              {QStringLiteral("signed"), !reader->signature().isEmpty()},
                              {QStringLiteral("signature_size"), reader->signature().size()},
                              {QStringLiteral("manifest"), manifest}});
        return kSuccess;
    }
    QString text = QStringLiteral("%1: %2 bytes, %3\n")
                       .arg(positional.first())
                       .arg(reader->fileSize())
                       .arg(reader->signature().isEmpty()
                                ? QStringLiteral("UNSIGNED")
                                : QStringLiteral("signature %1 bytes (not verified here; use "
                                                 "'bundle verify')")
                                      .arg(reader->signature().size()));
    text += QStringLiteral(
                "product           %1\nversion           %2\nsecurity version  %3\n"
                "hardware          %4\ncreated           %5\nexpires           %6\n")
                .arg(m.product, m.version.toString())
                .arg(m.securityVersion)
                .arg(m.hardware.join(QStringLiteral(", ")), m.created.toString(Qt::ISODate),
                     m.expires ? m.expires->toString(Qt::ISODate) : QStringLiteral("never"));
    for (const auto& payload : m.payloads) {
        text += QStringLiteral("payload           %1 -> %2, %3, %4, sha256 %5\n")
                    .arg(payload.name, payload.slotClass,
                         formatBytes(static_cast<qint64>(payload.size)),
                         bundle::encodingName(payload.encoding),
                         QString::fromLatin1(payload.sha256.toHex()));
    }
    printText(text);
    return kSuccess;
}

}  // namespace

QList<Command> bundleCommands() {
    return {
        Command{QStringLiteral("bundle"),
                QStringLiteral("create"),
                QStringLiteral("Build an unsigned .otab bundle from payload files."),
                {},
                [](QCommandLineParser& p) {
                    p.addOptions({kPayload, kVersion, kHardware, kSecurityVersion, kExpires,
                                  kNoExpiry, kCreated, kCompress, kProduct, kNotes, kOut});
                },
                runCreate},
        Command{QStringLiteral("bundle"), QStringLiteral("sign"),
                QStringLiteral("Sign a bundle's manifest (adds a signature if it has one)."),
                QStringLiteral("B.otab"),
                [](QCommandLineParser& p) {
                    p.addOptions({kPki, kSigner, kKey, kCert, kModule, kPinEnv});
                    p.addPositionalArgument(QStringLiteral("bundle"),
                                            QStringLiteral("The .otab file."));
                },
                runSign},
        Command{QStringLiteral("bundle"), QStringLiteral("verify"),
                QStringLiteral("Check a bundle as a device would: signature, chain, expiry, "
                               "security version, hardware, payload hashes."),
                QStringLiteral("B.otab"),
                [](QCommandLineParser& p) {
                    p.addOptions(
                        {kPki, kTrust, kCrl, kBase, kHardware, kMinSecurity, kThreshold, kJson});
                    p.addPositionalArgument(QStringLiteral("bundle"),
                                            QStringLiteral("The .otab file."));
                },
                runVerify},
        Command{QStringLiteral("bundle"), QStringLiteral("inspect"),
                QStringLiteral("Show a bundle's manifest; extract the manifest and signature."),
                QStringLiteral("B.otab"),
                [](QCommandLineParser& p) {
                    p.addOptions({kJson, kExtractManifest, kExtractSignature});
                    p.addPositionalArgument(QStringLiteral("bundle"),
                                            QStringLiteral("The .otab file."));
                },
                runInspect},
    };
}

}  // namespace otafleet::cli
