// otafleetctl pki ...: build and inspect the fleet's PKI.
#include "Cli.h"

#include "common/AtomicFile.h"
#include "crypto/Pki.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>

namespace otafleet::cli {
namespace {

const QCommandLineOption kDir(QStringLiteral("dir"),
                              QStringLiteral("Directory to create the PKI in."),
                              QStringLiteral("DIR"));
const QCommandLineOption kModule(QStringLiteral("pkcs11-module"),
                                 QStringLiteral("PKCS#11 module (.so) holding the keys; without "
                                                "it keys are PEM files, for trials only."),
                                 QStringLiteral("SO"));
const QCommandLineOption kToken(QStringLiteral("token-label"),
                                QStringLiteral("Label of the PKCS#11 token."), QStringLiteral("L"));
const QCommandLineOption kPinEnv(QStringLiteral("pin-env"),
                                 QStringLiteral("Read the token's user PIN from this environment "
                                                "variable instead of asking."),
                                 QStringLiteral("VAR"));
const QCommandLineOption kInitToken(QStringLiteral("init-token"),
                                    QStringLiteral("Initialise the token first (erases it; needs "
                                                   "the SO PIN)."));
const QCommandLineOption kSoPinEnv(QStringLiteral("so-pin-env"),
                                   QStringLiteral("Read the security officer PIN from this "
                                                  "environment variable (with --init-token)."),
                                   QStringLiteral("VAR"));
const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON."));
const QCommandLineOption kPki(QStringLiteral("pki"),
                              QStringLiteral("PKI directory made by 'pki init'."),
                              QStringLiteral("PKI"));
const QCommandLineOption kName(QStringLiteral("name"),
                               QStringLiteral("Certificate name (file name, token label; the "
                                              "common name, for devices the device id)."),
                               QStringLiteral("NAME"));
const QCommandLineOption kCsr(QStringLiteral("csr"),
                              QStringLiteral("Sign this PKCS#10 request (PEM or DER) instead of "
                                             "generating a key."),
                              QStringLiteral("FILE"));
const QCommandLineOption kSan(QStringLiteral("san"),
                              QStringLiteral("Server names or IP addresses, comma-separated or "
                                             "repeated (server only)."),
                              QStringLiteral("NAME[,NAME]"));
const QCommandLineOption kDays(QStringLiteral("days"), QStringLiteral("Validity in days."),
                               QStringLiteral("N"));
const QCommandLineOption kReason(QStringLiteral("reason"),
                                 QStringLiteral("keyCompromise, superseded or "
                                                "cessationOfOperation."),
                                 QStringLiteral("R"), QStringLiteral("keyCompromise"));
const QCommandLineOption kOut(QStringList{QStringLiteral("o"), QStringLiteral("output")},
                              QStringLiteral("Output file."), QStringLiteral("FILE"));

const QCommandLineOption kKeyType(QStringLiteral("key-type"),
                                  QStringLiteral("p256 (default), p384, ed25519 (releases "
                                                 "signed as RFC 8419 CMS) or rsa-pss (3072 bits)."),
                                  QStringLiteral("TYPE"));

constexpr qint64 kMaxCsrFileSize = crypto::kMaxCsrSize;

Result<crypto::Pki> openPki(const QCommandLineParser& p) {
    return crypto::Pki::open(p.value(kPki));
}

crypto::PinProvider tokenPin(const QCommandLineParser& p, const crypto::Pki& pki) {
    if (!pki.keysInToken()) {
        return {};
    }
    return pinProvider(p.value(kPinEnv), QStringLiteral("the PKI token"));
}

// Where the private key lives: "token", "file", or "external" (issued from a CSR).
QString keyLocation(const crypto::IssuedCertificate& e) {
    if (e.keyReference.isEmpty()) {
        return QStringLiteral("external");
    }
    return e.keyInToken() ? QStringLiteral("token") : QStringLiteral("file");
}

QJsonObject entryJson(const crypto::IssuedCertificate& e, const QDateTime& now) {
    QJsonObject object{{QStringLiteral("name"), e.name},
                       {QStringLiteral("kind"), crypto::issueKindName(e.kind)},
                       {QStringLiteral("subject"), e.subject},
                       {QStringLiteral("serial"), e.serial},
                       {QStringLiteral("not_after"), e.notAfter.toString(Qt::ISODate)},
                       {QStringLiteral("state"), e.state(now)},
                       {QStringLiteral("key"), e.keyReference},
                       {QStringLiteral("key_location"), keyLocation(e)},
                       {QStringLiteral("certificate"), e.certificatePath},
                       {QStringLiteral("revoked"), e.revoked}};
    if (e.revoked) {
        object.insert(QStringLiteral("revoked_at"), e.revokedAt.toString(Qt::ISODate));
        object.insert(QStringLiteral("reason"), e.revocationReason);
    }
    return object;
}

Result<int> parseDays(const QCommandLineParser& p, int fallback) {
    if (!p.isSet(kDays)) {
        return fallback;
    }
    bool ok = false;
    const int days = p.value(kDays).toInt(&ok);
    if (!ok || days < 1 || days > 36500) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("--days takes a number of days from 1 to 36500, not '%1'")
                        .arg(p.value(kDays)));
    }
    return days;
}

int runIssue(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    const QStringList positional = p.positionalArguments();
    const auto kind =
        positional.size() == 1 ? crypto::parseIssueKind(positional.first()) : std::nullopt;
    if (!kind || !p.isSet(kPki) || !p.isSet(kName)) {
        return usageError(
            QStringLiteral("pki issue takes one of release-signer, server, operator, "
                           "device and needs --pki PKI --name NAME"));
    }
    const auto days = parseDays(p, 0);
    if (!days) {
        return usageError(days.error().message);
    }
    std::optional<crypto::KeyType> keyType;
    if (p.isSet(kKeyType)) {
        const auto parsed = crypto::parseKeyTypeOrFail(p.value(kKeyType));
        if (!parsed) {
            return usageError(parsed.error().message);
        }
        if (*kind != crypto::IssueKind::ReleaseSigner || p.isSet(kCsr)) {
            return usageError(
                QStringLiteral("--key-type applies to release-signer keys made "
                               "here (not with --csr); TLS identities are P-256"));
        }
        keyType = *parsed;
    }
    const auto pki = openPki(p);
    if (!pki) {
        return failWith(pki.error(), json);
    }
    crypto::IssueOptions options;
    options.kind = *kind;
    options.name = p.value(kName);
    options.validityDays = *days;
    options.keyType = keyType;
    for (const QString& value : p.values(kSan)) {
        options.subjectAltNames += value.split(QLatin1Char(','), Qt::SkipEmptyParts);
    }
    if (p.isSet(kCsr)) {
        auto csr = readFileBounded(p.value(kCsr), kMaxCsrFileSize);
        if (!csr) {
            return failWith(csr.error(), json);
        }
        options.csr = *csr;
    }
    options.pinProvider = tokenPin(p, *pki);
    const auto issued = pki->issue(options);
    if (!issued) {
        return failWith(issued.error(), json);
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (json) {
        printJson(entryJson(*issued, now));
    } else {
        printText(QStringLiteral("Issued %1 %2: %3, serial %4, valid until %5.\n  certificate "
                                 "%6\n  key %7")
                      .arg(crypto::issueKindName(issued->kind), issued->name, issued->subject,
                           issued->serial, issued->notAfter.toString(Qt::ISODate),
                           issued->certificatePath,
                           issued->keyReference.isEmpty()
                               ? QStringLiteral("stays with the requester (from CSR)")
                               : issued->keyReference));
    }
    return kSuccess;
}

int runRevoke(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    if (!p.isSet(kPki) || !p.isSet(kName)) {
        return usageError(QStringLiteral("pki revoke needs --pki PKI --name NAME"));
    }
    const auto reason = crypto::parseRevocationReason(p.value(kReason));
    if (!reason) {
        return usageError(QStringLiteral("--reason takes keyCompromise, superseded or "
                                         "cessationOfOperation, not '%1'")
                              .arg(p.value(kReason)));
    }
    const auto pki = openPki(p);
    if (!pki) {
        return failWith(pki.error(), json);
    }
    const auto revoked = pki->revoke(p.value(kName), *reason);
    if (!revoked) {
        return failWith(revoked.error(), json);
    }
    if (json) {
        printJson(entryJson(*revoked, QDateTime::currentDateTimeUtc()));
    } else {
        printText(
            QStringLiteral("Revoked %1 (serial %2, %3). Publish it: otafleetctl pki crl "
                           "--pki %4 -o crl.pem")
                .arg(revoked->name, revoked->serial, revoked->revocationReason, p.value(kPki)));
    }
    return kSuccess;
}

int runCrl(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    if (!p.isSet(kPki) || !p.isSet(kOut)) {
        return usageError(QStringLiteral("pki crl needs --pki PKI and -o CRL.pem"));
    }
    const auto days = parseDays(p, 30);
    if (!days) {
        return usageError(days.error().message);
    }
    const auto pki = openPki(p);
    if (!pki) {
        return failWith(pki.error(), json);
    }
    const auto crls = pki->makeCrls(*days, tokenPin(p, *pki));
    if (!crls) {
        return failWith(crls.error(), json);
    }
    if (const auto written = writeFileAtomically(p.value(kOut), crls->pem); !written) {
        return failWith(written.error(), json);
    }
    if (json) {
        printJson(
            QJsonObject{{QStringLiteral("file"), p.value(kOut)},
                        {QStringLiteral("issuers"), QJsonArray::fromStringList(crls->issuers)},
                        {QStringLiteral("revoked"), crls->revokedCount},
                        {QStringLiteral("days"), *days}});
    } else {
        printText(QStringLiteral("Wrote %1: %2 revoked certificate(s) from %3; valid %4 days.")
                      .arg(p.value(kOut))
                      .arg(crls->revokedCount)
                      .arg(crls->issuers.join(QStringLiteral("; ")))
                      .arg(*days));
    }
    return kSuccess;
}

int runExportPublic(const QCommandLineParser& p) {
    if (!p.isSet(kPki) || !p.isSet(kName) || !p.isSet(kOut)) {
        return usageError(
            QStringLiteral("pki export-public needs --pki PKI --name NAME -o PUB.pem"));
    }
    const auto pki = openPki(p);
    if (!pki) {
        return failWith(pki.error());
    }
    const auto pem = pki->publicKeyPem(p.value(kName));
    if (!pem) {
        return failWith(pem.error());
    }
    if (const auto written = writeFileAtomically(p.value(kOut), *pem); !written) {
        return failWith(written.error());
    }
    printText(
        QStringLiteral("Wrote the public key of %1 to %2.").arg(p.value(kName), p.value(kOut)));
    return kSuccess;
}

int runList(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    if (!p.isSet(kPki)) {
        return usageError(QStringLiteral("pki list needs --pki PKI"));
    }
    const auto pki = openPki(p);
    if (!pki) {
        return failWith(pki.error(), json);
    }
    const auto list = pki->issued();
    if (!list) {
        return failWith(list.error(), json);
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (json) {
        QJsonArray array;
        for (const auto& e : *list) {
            array.append(entryJson(e, now));
        }
        printText(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)));
        return kSuccess;
    }
    QString text =
        QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
            .arg(QStringLiteral("NAME").leftJustified(16), QStringLiteral("KIND").leftJustified(15),
                 QStringLiteral("SUBJECT").leftJustified(28),
                 QStringLiteral("SERIAL").leftJustified(34),
                 QStringLiteral("NOT AFTER").leftJustified(21),
                 QStringLiteral("STATE").leftJustified(8), QStringLiteral("KEY"));
    for (const auto& e : *list) {
        text += QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
                    .arg(e.name.leftJustified(16), crypto::issueKindName(e.kind).leftJustified(15),
                         e.subject.leftJustified(28), e.serial.leftJustified(34),
                         e.notAfter.toString(Qt::ISODate).leftJustified(21),
                         e.state(now).leftJustified(8),
                         e.keyReference.isEmpty()
                             ? QStringLiteral("external (from a CSR)")
                             : QStringLiteral("%1 %2").arg(keyLocation(e), e.keyReference));
    }
    printText(text);
    return kSuccess;
}

int runInit(const QCommandLineParser& p) {
    if (!p.isSet(kDir)) {
        return usageError(QStringLiteral("pki init needs --dir DIR"));
    }
    crypto::PkiInitOptions options;
    options.directory = QDir(p.value(kDir)).absolutePath();
    options.pkcs11Module = p.value(kModule);
    options.tokenLabel = p.value(kToken);
    options.initToken = p.isSet(kInitToken);
    if (p.isSet(kKeyType)) {
        const auto keyType = crypto::parseKeyTypeOrFail(p.value(kKeyType));
        if (!keyType) {
            return usageError(keyType.error().message);
        }
        options.keyType = *keyType;
    }
    if (options.pkcs11Module.isEmpty() != options.tokenLabel.isEmpty()) {
        return usageError(QStringLiteral("--pkcs11-module and --token-label go together"));
    }
    if (options.initToken && options.pkcs11Module.isEmpty()) {
        return usageError(QStringLiteral("--init-token needs --pkcs11-module and --token-label"));
    }
    // Without a module the crypto library warns that keys become files (trials only).
    if (!options.pkcs11Module.isEmpty()) {
        options.pinProvider =
            pinProvider(p.value(kPinEnv), QStringLiteral("token '%1'").arg(options.tokenLabel));
        options.soPinProvider =
            pinProvider(p.value(kSoPinEnv),
                        QStringLiteral("the security officer of '%1'").arg(options.tokenLabel));
    }
    const auto report = crypto::Pki::init(options);
    if (!report) {
        return failWith(report.error(), p.isSet(kJson));
    }
    if (p.isSet(kJson)) {
        QJsonArray created;
        for (const QString& line : report->created) {
            created.append(line);
        }
        printJson(QJsonObject{
            {QStringLiteral("directory"), options.directory},
            {QStringLiteral("keys_in_token"), report->keysInToken},
            {QStringLiteral("key_type"), crypto::keyTypeName(options.keyType)},
            {QStringLiteral("root_ca"), options.directory + QStringLiteral("/root-ca.pem")},
            {QStringLiteral("created"), created}});
    } else {
        printText(QStringLiteral("Created a PKI in %1 (keys %2):\n  %3\nTrust anchor for devices: "
                                 "%1/root-ca.pem")
                      .arg(options.directory,
                           report->keysInToken ? QStringLiteral("in the PKCS#11 token")
                                               : QStringLiteral("in PEM files"),
                           report->created.join(QStringLiteral("\n  "))));
    }
    return kSuccess;
}

}  // namespace

QList<Command> pkiCommands() {
    return {
        Command{
            QStringLiteral("pki"),
            QStringLiteral("init"),
            QStringLiteral("Create the fleet PKI: root CA; release, device, server and operator "
                           "CAs; the release signer and an operator identity."),
            {},
            [](QCommandLineParser& p) {
                p.addOptions(
                    {kDir, kModule, kToken, kPinEnv, kInitToken, kSoPinEnv, kKeyType, kJson});
            },
            runInit},
        Command{
            QStringLiteral("pki"), QStringLiteral("issue"),
            QStringLiteral("Issue a release signer, server, operator or device certificate from "
                           "the matching CA (key in the token for release signers)."),
            QStringLiteral("release-signer|server|operator|device"),
            [](QCommandLineParser& p) {
                p.addOptions({kPki, kName, kCsr, kSan, kDays, kKeyType, kPinEnv, kJson});
                p.addPositionalArgument(QStringLiteral("kind"),
                                        QStringLiteral("release-signer, server, operator or "
                                                       "device."));
            },
            runIssue},
        Command{QStringLiteral("pki"),
                QStringLiteral("revoke"),
                QStringLiteral("Mark a certificate revoked; publish it with 'pki crl'."),
                {},
                [](QCommandLineParser& p) {
                    p.addOptions({kPki, kName, kReason, kPinEnv, kJson});
                },
                runRevoke},
        Command{QStringLiteral("pki"),
                QStringLiteral("crl"),
                QStringLiteral("Write the certificate revocation lists (PEM, one per CA with "
                               "revocations), signed by the CAs."),
                {},
                [](QCommandLineParser& p) {
                    p.addOptions({kPki, kOut, kDays, kPinEnv, kJson});
                },
                runCrl},
        Command{QStringLiteral("pki"),
                QStringLiteral("export-public"),
                QStringLiteral("Write the public key (PEM) of a certificate; 'release' is the "
                               "init-made signer."),
                {},
                [](QCommandLineParser& p) {
                    p.addOptions({kPki, kName, kOut});
                },
                runExportPublic},
        Command{QStringLiteral("pki"),
                QStringLiteral("list"),
                QStringLiteral("List the PKI's certificates: kind, subject, serial, expiry, state, "
                               "key location."),
                {},
                [](QCommandLineParser& p) {
                    p.addOptions({kPki, kJson});
                },
                runList},
    };
}

}  // namespace otafleet::cli
