// Pki::init: builds the fleet hierarchy of DESIGN.md section 8 (root -> release, device, server
// and operator CAs -> release signer and operator identity), with CA and release keys generated
// in a PKCS#11 token or, for trials, in key files.
#include "crypto/Pki.h"

#include "common/AtomicFile.h"
#include "crypto/CertificateBuilder.h"
#include "crypto/CryptoLogging.h"
#include "crypto/OpenSsl.h"
#include "crypto/Pkcs11Token.h"
#include "crypto/Pkcs11Uri.h"
#include "crypto/PkiLayout.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>

#include <vector>

namespace otafleet::crypto {

namespace {

constexpr int kPrivateFileMode = 0600;
constexpr int kPublicFileMode = 0644;

// One CA or release key while init runs: either a software key, or a token key opened afresh
// plus the public half the token reported when generating it.
struct InitKey {
    QString name;
    QString reference;  // as written to pki.json
    ossl::EvpPkeyPtr softwareOrPublic;
    std::unique_ptr<SigningKey> signer;  // the software key itself, or the opened token key

    [[nodiscard]] EVP_PKEY* subjectKey() const { return softwareOrPublic.get(); }
    [[nodiscard]] const SigningKey& signingKey() const { return *signer; }
};

const std::vector<QLatin1String>& keyNames() {
    static const std::vector<QLatin1String> names = {layout::kRootKey,       layout::kReleaseCaKey,
                                                     layout::kDeviceCaKey,   layout::kServerCaKey,
                                                     layout::kOperatorCaKey, layout::kReleaseKey};
    return names;
}

Result<std::vector<InitKey>> createFileKeys(const QDir& dir, KeyType type) {
    qCWarning(lcCrypto).noquote()
        << "pki init without a PKCS#11 token: CA and release keys are written as files to"
        << dir.absoluteFilePath(layout::kKeysDir)
        << "- use this for trials only; production keys belong in an HSM";
    if (!dir.mkpath(layout::kKeysDir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Cannot create %1. Check the permissions of the directory.")
                        .arg(dir.absoluteFilePath(layout::kKeysDir)));
    }
    std::vector<InitKey> keys;
    for (const QLatin1String& name : keyNames()) {
        InitKey key;
        key.name = name;
        key.reference = QStringLiteral("%1/%2.key").arg(layout::kKeysDir, name);
        key.softwareOrPublic = ossl::generateKey(type);
        const QByteArray pem = ossl::privateKeyPem(key.softwareOrPublic.get());
        if (pem.isEmpty()) {
            return fail(
                QStringLiteral("crypto.sign-failed"),
                QStringLiteral("Generating the %1 key failed (%2).").arg(name, ossl::takeErrors()));
        }
        if (auto status =
                writeFileAtomically(dir.absoluteFilePath(key.reference), pem, kPrivateFileMode);
            !status) {
            return fail(status.error());
        }
        key.signer =
            SigningKey::fromEvpKey(key.softwareOrPublic.get(), dir.absoluteFilePath(key.reference));
        keys.push_back(std::move(key));
    }
    return keys;
}

SecretString copyOf(const SecretString& secret) {
    return SecretString(QByteArray(secret.c_str(), secret.size()));
}

Result<std::vector<InitKey>> createTokenKeys(const PkiInitOptions& options) {
    if (options.tokenLabel.isEmpty()) {
        return fail(QStringLiteral("pki.token"),
                    QStringLiteral("A token label is needed with a PKCS#11 module. Pass "
                                   "--token-label."));
    }
    if (!options.pinProvider) {
        return fail(QStringLiteral("crypto.pin-missing"),
                    QStringLiteral("The token's user PIN is needed. Pass it with --pin-env."));
    }
    auto pin = options.pinProvider();
    if (!pin) {
        return fail(pin.error());
    }
    std::vector<InitKey> keys;
    {
        // The raw module is finalised when this scope ends, before libp11 initialises it.
        auto token = Pkcs11Token::load(options.pkcs11Module);
        if (!token) {
            return fail(token.error());
        }
        if (options.initToken) {
            if (!options.soPinProvider) {
                return fail(QStringLiteral("crypto.pin-missing"),
                            QStringLiteral("Initialising the token needs its security officer "
                                           "PIN."));
            }
            auto soPin = options.soPinProvider();
            if (!soPin) {
                return fail(soPin.error());
            }
            if (auto status = (*token)->initialize(options.tokenLabel, *soPin, *pin); !status) {
                return fail(status.error());
            }
        }
        if (auto status = (*token)->open(options.tokenLabel, *pin); !status) {
            return fail(status.error());
        }
        for (const QLatin1String& name : keyNames()) {
            auto generated = (*token)->generateKey(name, options.keyType);
            if (!generated) {
                return fail(generated.error());
            }
            Pkcs11Uri uri;
            uri.token = options.tokenLabel;
            uri.object = name;
            uri.id = generated->id;
            uri.type = QStringLiteral("private");
            InitKey key;
            key.name = name;
            key.reference = uri.toString();
            key.softwareOrPublic = std::move(generated->publicKey);
            keys.push_back(std::move(key));
        }
    }
    const SecretString& userPin = *pin;
    for (InitKey& key : keys) {
        KeyOpenOptions open;
        open.pkcs11Module = options.pkcs11Module;
        open.pinProvider = [&userPin]() -> Result<SecretString> { return copyOf(userPin); };
        auto opened = SigningKey::open(key.reference, open);
        if (!opened) {
            return fail(opened.error().withContext(
                QStringLiteral("opening the freshly generated key %1").arg(key.name)));
        }
        key.signer = std::move(*opened);
    }
    return keys;
}

QString caTitle(const QString& name) {
    if (name == layout::kRootKey) {
        return QStringLiteral("root CA");
    }
    if (name == layout::kReleaseKey) {
        return QStringLiteral("release signer");
    }
    QString title = name;
    return title.replace(QStringLiteral("-ca"), QStringLiteral(" CA"));
}

// Where each key's certificate lives, relative to the PKI directory.
QString certificatePath(const QString& name) {
    if (name == layout::kRootKey) {
        return layout::kRootCa;
    }
    if (name == layout::kReleaseKey) {
        return layout::kReleaseCert;
    }
    return QStringLiteral("%1/%2.pem").arg(layout::kCaDir, name);
}

// Every certificate init issues, by key name, plus the operator's software identity.
struct Hierarchy {
    QHash<QString, Certificate> certificates;  // root-ca, *-ca, release
    Certificate operatorCert;
    ossl::EvpPkeyPtr operatorKey;
};

Result<Hierarchy> issueHierarchy(const std::vector<InitKey>& keys, const PkiInitOptions& options) {
    QHash<QString, const InitKey*> byName;
    for (const InitKey& key : keys) {
        byName.insert(key.name, &key);
    }
    Hierarchy result;
    const auto issueFor = [&](const QString& name, CertificateProfile profile,
                              const QString& issuerName) -> Status {
        const bool selfSigned = name == issuerName;
        const Certificate issuerCert =
            selfSigned ? Certificate() : result.certificates.value(issuerName);
        auto cert =
            issueCertificate({QStringLiteral("%1 %2").arg(options.commonNamePrefix, caTitle(name)),
                              profile,
                              byName.value(name)->subjectKey(),
                              {},
                              options.validityDays},
                             issuerCert, byName.value(issuerName)->signingKey());
        if (!cert) {
            return fail(cert.error());
        }
        result.certificates.insert(name, *cert);
        return {};
    };
    Status status = issueFor(layout::kRootKey, CertificateProfile::RootCa, layout::kRootKey);
    for (const QLatin1String& name : {layout::kReleaseCaKey, layout::kDeviceCaKey,
                                      layout::kServerCaKey, layout::kOperatorCaKey}) {
        if (status) {
            status = issueFor(name, CertificateProfile::IntermediateCa, layout::kRootKey);
        }
    }
    if (status) {
        status =
            issueFor(layout::kReleaseKey, CertificateProfile::CodeSigning, layout::kReleaseCaKey);
    }
    if (!status) {
        return fail(status.error());
    }
    result.operatorKey = ossl::generateP256();
    auto operatorCert = issueCertificate({options.commonNamePrefix + QStringLiteral(" operator"),
                                          CertificateProfile::TlsClient,
                                          result.operatorKey.get(),
                                          {},
                                          options.validityDays},
                                         result.certificates.value(layout::kOperatorCaKey),
                                         byName.value(layout::kOperatorCaKey)->signingKey());
    if (!operatorCert) {
        return fail(operatorCert.error());
    }
    result.operatorCert = *operatorCert;
    return result;
}

// Certificates, the operator identity and, last, pki.json: its presence is what marks a
// complete PKI.
Status writePki(const QDir& dir, const Hierarchy& hierarchy, const std::vector<InitKey>& keys,
                const PkiInitOptions& options) {
    const auto write = [&](const QString& relative, const QByteArray& content, int mode) {
        return writeFileAtomically(dir.absoluteFilePath(relative), content, mode);
    };
    const QByteArray operatorChain = hierarchy.operatorCert.toPem() +
                                     hierarchy.certificates.value(layout::kOperatorCaKey).toPem();
    Status status = write(layout::kOperatorCert, operatorChain, kPublicFileMode);
    if (status) {
        status = write(layout::kOperatorKey, ossl::privateKeyPem(hierarchy.operatorKey.get()),
                       kPrivateFileMode);
    }
    QJsonObject keyRefs;
    QJsonObject certificates;
    for (const InitKey& key : keys) {
        QByteArray pem = hierarchy.certificates.value(key.name).toPem();
        if (key.name == layout::kReleaseKey) {  // release.pem carries its chain
            pem += hierarchy.certificates.value(layout::kReleaseCaKey).toPem();
        }
        if (status) {
            status = write(certificatePath(key.name), pem, kPublicFileMode);
        }
        keyRefs.insert(key.name, key.reference);
        certificates.insert(key.name, certificatePath(key.name));
    }
    if (!status) {
        return status;
    }
    certificates.insert(QStringLiteral("operator"), QString(layout::kOperatorCert));
    const bool inToken = !options.pkcs11Module.isEmpty();
    QJsonObject json;
    json.insert(layout::kJsonFormat, layout::kFormatVersion);
    json.insert(layout::kJsonKeyStorage,
                inToken ? QStringLiteral("pkcs11") : QStringLiteral("pem"));
    json.insert(layout::kJsonKeyType, keyTypeName(options.keyType));
    json.insert(layout::kJsonModule, options.pkcs11Module);
    json.insert(layout::kJsonTokenLabel, inToken ? options.tokenLabel : QString());
    json.insert(layout::kJsonKeys, keyRefs);
    json.insert(layout::kJsonCertificates, certificates);
    json.insert(layout::kJsonOperatorKey, QString(layout::kOperatorKey));
    json.insert(layout::kJsonCreated, QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    return write(layout::kPkiJson, QJsonDocument(json).toJson(), kPublicFileMode);
}

PkiInitReport report(const Hierarchy& hierarchy, const std::vector<InitKey>& keys, bool inToken) {
    PkiInitReport result;
    result.keysInToken = inToken;
    const auto line = [](const QString& title, const Certificate& cert, const QString& key) {
        return QStringLiteral("%1  %2  key %3").arg(title.leftJustified(14), cert.subject(), key);
    };
    for (const InitKey& key : keys) {
        result.created.append(
            line(caTitle(key.name), hierarchy.certificates.value(key.name), key.reference));
    }
    result.created.append(
        line(QStringLiteral("operator"), hierarchy.operatorCert, layout::kOperatorKey));
    return result;
}

}  // namespace

Result<PkiInitReport> Pki::init(const PkiInitOptions& options) {
    if (options.directory.isEmpty()) {
        return fail(QStringLiteral("pki.invalid"),
                    QStringLiteral("No PKI directory was given. Pass --dir."));
    }
    const QDir dir(options.directory);
    if (QFileInfo::exists(dir.absoluteFilePath(layout::kPkiJson)) ||
        QFileInfo::exists(dir.absoluteFilePath(layout::kRootCa))) {
        return fail(QStringLiteral("pki.exists"),
                    QStringLiteral("%1 already holds a PKI; it is never overwritten. Choose an "
                                   "empty directory or remove the old PKI deliberately.")
                        .arg(dir.absolutePath()));
    }
    if (!dir.mkpath(QStringLiteral(".")) || !dir.mkpath(layout::kCaDir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Cannot create the PKI directory %1. Check its permissions.")
                        .arg(dir.absolutePath()));
    }
    const bool inToken = !options.pkcs11Module.isEmpty();
    auto keys = inToken ? createTokenKeys(options) : createFileKeys(dir, options.keyType);
    if (!keys) {
        return fail(keys.error());
    }
    auto hierarchy = issueHierarchy(*keys, options);
    if (!hierarchy) {
        return fail(hierarchy.error());
    }
    if (auto status = writePki(dir, *hierarchy, *keys, options); !status) {
        return fail(status.error());
    }
    qCInfo(lcCrypto).noquote() << "created PKI in" << dir.absolutePath()
                               << (inToken
                                       ? QStringLiteral("with keys in token ") + options.tokenLabel
                                       : QStringLiteral("with key files"));
    return report(*hierarchy, *keys, inToken);
}

}  // namespace otafleet::crypto
