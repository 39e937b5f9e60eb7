#include "agent/Enrollment.h"

#include "agent/Logging.h"
#include "common/AtomicFile.h"
#include "crypto/DeviceIdentity.h"
#include "crypto/TlsKeyEngine.h"
#include "enroll/EnrollmentClient.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QScopeGuard>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstdio>
#include <functional>

namespace otafleet::agent {

namespace {

constexpr qint64 kMaxPemFile = 1024 * 1024;
const QLatin1String kDefaultCertificate("identity/device.pem");
const QLatin1String kDefaultKey("identity/device.key");

QString reenrolHint(const QString& configPath) {
    return QStringLiteral(
               "Re-enrol the device: otafleet-agent enroll --config %1 --station "
               "HOST:PORT (revoke the old certificate first if its key may be "
               "compromised).")
        .arg(configPath);
}

// The crypto check's codes, in the agent's words.
Error identityError(const Error& error, const QString& configPath) {
    QString code = QStringLiteral("agent.identity-invalid");
    if (error.code == u"crypto.certificate-expired")
        code = QStringLiteral("agent.identity-expired");
    else if (error.code == u"crypto.certificate-revoked")
        code = QStringLiteral("agent.identity-revoked");
    else if (error.code == u"crypto.certificate-not-yet-valid")
        code = QStringLiteral("agent.identity-not-yet-valid");
    return Error{code, QStringLiteral("The device identity cannot be used: %1 The agent does not "
                                      "serve with it. %2")
                           .arg(error.message, reenrolHint(configPath))};
}

// The PIN is read once and handed out as copies (the token is opened more than once).
struct HeldPin {
    QByteArray value;
    ~HeldPin() { value.fill('\0'); }
    std::function<Result<crypto::SecretString>()> provider(const QString& pinEnv) {
        return [this, pinEnv]() -> Result<crypto::SecretString> {
            if (value.isEmpty()) {
                if (pinEnv.isEmpty()) {
                    return fail(QStringLiteral("crypto.pin-missing"),
                                QStringLiteral("The device key is on a token; pass --pin-env VAR "
                                               "with the PIN in that environment variable."));
                }
                auto secret = crypto::SecretString::fromEnvironment(pinEnv);
                if (!secret)
                    return fail(secret.error());
                value = QByteArray(secret->c_str(), secret->size());
            }
            return crypto::SecretString(value);
        };
    }
};

// Where the identity goes: what agent.conf names, else the defaults beside it.
struct Plan {
    QString certificatePath;
    QString keyPath;  // file keys
    QString keyUri;   // token keys
    bool configHasIdentity = false;
};

Result<Plan> plan(const AgentConfig& config, const EnrollOptions& options, const QDir& dir) {
    Plan p;
    p.configHasIdentity = !config.identityCertificate.isEmpty();
    p.certificatePath =
        p.configHasIdentity ? config.identityCertificate : dir.filePath(kDefaultCertificate);
    p.keyUri = options.keyUri.isEmpty() ? config.identityKeyUri : options.keyUri;
    if (p.keyUri.isEmpty())
        p.keyPath = config.identityKey.isEmpty() ? dir.filePath(kDefaultKey) : config.identityKey;
    const bool conflict =
        p.configHasIdentity && !options.keyUri.isEmpty() && options.keyUri != config.identityKeyUri;
    if (conflict) {
        return fail(
            QStringLiteral("agent.enroll-conflict"),
            QStringLiteral("agent.conf already names the device key %1; enrol with that "
                           "key, or remove the [identity] section to choose another.")
                .arg(config.identityKeyUri.isEmpty() ? config.identityKey : config.identityKeyUri));
    }
    return p;
}

// The key a file-key enrolment uses: a key not certified yet is reused (a retried request gets
// the same certificate); a key that already has a certificate is never re-certified (it may be
// why the old one was revoked): a fresh key goes to `pendingPath` and replaces it on success.
Result<crypto::DeviceKey> fileKey(const QString& keyPath, const QString& certificatePath,
                                  const QString& pendingPath) {
    if (QFileInfo::exists(pendingPath))
        return crypto::DeviceKey::loadFile(pendingPath);
    if (QFileInfo::exists(keyPath)) {
        auto key = crypto::DeviceKey::loadFile(keyPath);
        if (!key)
            return key;
        auto chain = crypto::Certificate::loadPemFile(certificatePath);
        const bool certified =
            chain && X509_check_private_key(chain->first().handle(), key->evpKey()) == 1;
        ERR_clear_error();
        if (!certified)
            return key;
        return crypto::DeviceKey::createFile(pendingPath);
    }
    const QString keyDir = QFileInfo(keyPath).absolutePath();
    if (!QDir().mkpath(keyDir) ||
        !QFile::setPermissions(keyDir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Cannot create %1 (mode 0700) for the device key.").arg(keyDir));
    }
    return crypto::DeviceKey::createFile(keyPath);
}

Status addIdentitySection(const QString& configPath, const Plan& p, const EnrollOptions& o) {
    auto text = readFileBounded(configPath, AgentConfig::kMaxFileSize);
    if (!text)
        return fail(text.error());
    const QDir dir = QFileInfo(configPath).absoluteDir();
    QString section = QStringLiteral(
                          "\n[identity]\n# written by 'otafleet-agent enroll'\n"
                          "certificate = %1\n")
                          .arg(dir.relativeFilePath(p.certificatePath));
    if (p.keyUri.isEmpty()) {
        section += QStringLiteral("key = %1\n").arg(dir.relativeFilePath(p.keyPath));
    } else {
        section += QStringLiteral("key_uri = %1\n").arg(p.keyUri);
        if (!o.pinEnv.isEmpty())
            section += QStringLiteral("pin_env = %1\n").arg(o.pinEnv);
        if (!o.pkcs11Module.isEmpty())
            section += QStringLiteral("pkcs11_module = %1\n").arg(o.pkcs11Module);
    }
    QByteArray updated = *text;
    if (!updated.endsWith('\n'))
        updated += '\n';
    updated += section.toUtf8();
    const QFileInfo info(configPath);
    if (auto parsed = AgentConfig::parse(updated, info.fileName(), info.absolutePath()); !parsed)
        return fail(parsed.error());
    return writeFileAtomically(configPath, updated);
}

}  // namespace

Result<EnrollReport> enrollAgent(const EnrollOptions& options) {
    auto config = AgentConfig::load(options.configPath);
    if (!config)
        return fail(config.error());
    const QDir dir = QFileInfo(options.configPath).absoluteDir();
    auto where = plan(*config, options, dir);
    if (!where)
        return fail(where.error());
    if (const QString certDir = QFileInfo(where->certificatePath).absolutePath();
        !QDir().mkpath(certDir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Cannot create %1 for the device certificate.").arg(certDir));
    }
    HeldPin pin;
    const QString pinEnv = options.pinEnv.isEmpty() ? config->identityPinEnv : options.pinEnv;
    Result<crypto::DeviceKey> key = fail(QStringLiteral("crypto.key-not-found"), QString());
    QString pendingKey;  // a new key file that replaces the certified one once enrolled
    if (!where->keyUri.isEmpty()) {
        key = crypto::DeviceKey::openOrCreateInToken(
            where->keyUri,
            {options.pkcs11Module.isEmpty() ? config->identityPkcs11Module : options.pkcs11Module,
             pin.provider(pinEnv)});
    } else {
        pendingKey = where->keyPath + QStringLiteral(".pending");
        key = fileKey(where->keyPath, where->certificatePath, pendingKey);
        if (key && !QFileInfo::exists(pendingKey))
            pendingKey.clear();
    }
    if (!key)
        return fail(key.error());
    auto csr = crypto::makeCertificateRequest(key->evpKey(), config->deviceId);
    if (!csr)
        return fail(csr.error());
    auto root = readFileBounded(config->bundleRoot, kMaxPemFile);
    if (!root)
        return fail(root.error());
    enroll::EnrollCall call;
    call.station = options.station.isEmpty() ? config->serverAddress : options.station;
    if (call.station.isEmpty()) {
        return fail(QStringLiteral("agent.enroll-station-missing"),
                    QStringLiteral("No station to enrol with: pass --station HOST:PORT or set "
                                   "[server] address in %1.")
                        .arg(options.configPath));
    }
    call.rootPem = *root;
    call.csr = *csr;
    call.deviceId = config->deviceId;
    call.model = config->model;
    call.hardware = config->hardware;
    call.token = options.token;
    auto chain = enroll::requestCertificate(call);
    if (!chain)
        return fail(chain.error());
    crypto::DeviceIdentityCheck check;
    check.chain.rootPem = *root;
    check.chain.crlFiles = config->crlFiles;
    check.deviceId = config->deviceId;
    check.key = key->evpKey();
    auto leaf = crypto::verifyDeviceIdentity(*chain, check);
    if (!leaf) {
        return fail(QStringLiteral("agent.enroll-certificate-invalid"),
                    QStringLiteral("The station's certificate was not stored: %1 [%2] Check that "
                                   "the station serves this fleet's PKI.")
                        .arg(leaf.error().message, leaf.error().code));
    }
    if (auto ok = writeFileAtomically(where->certificatePath, *chain); !ok)
        return fail(ok.error());
    // A crash between the two renames leaves a certificate for the pending key beside the old
    // key file; the agent then refuses to start (agent.identity-invalid) and a repeated enroll
    // finds the new key uncertified on disk and gets the same certificate again.
    if (!pendingKey.isEmpty()) {
        if (::rename(QFile::encodeName(pendingKey).constData(),
                     QFile::encodeName(where->keyPath).constData()) != 0) {
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("Could not move the new device key %1 into place; run "
                                       "enroll again.")
                            .arg(pendingKey));
        }
        if (auto ok = syncDirectory(QFileInfo(where->keyPath).absolutePath()); !ok)
            return fail(ok.error());
    }
    if (!where->configHasIdentity) {
        if (auto ok = addIdentitySection(options.configPath, *where, options); !ok)
            return fail(ok.error());
    }
    return EnrollReport{config->deviceId, leaf->serialHex(), leaf->notAfter(),
                        where->certificatePath,
                        where->keyUri.isEmpty() ? where->keyPath : where->keyUri};
}

Result<ServedIdentity> servedIdentity(const AgentConfig& config, const QString& configPath) {
    const auto readPem = [](const QString& path) -> Result<QByteArray> {
        auto bytes = readFileBounded(path, kMaxPemFile);
        if (!bytes) {
            return fail(QStringLiteral("agent.tls-unreadable"),
                        QStringLiteral("Could not read %1 (%2); run 'otafleet-agent setup' or "
                                       "'otafleet-agent enroll' again, or fix the path.")
                            .arg(path, bytes.error().message));
        }
        return bytes;
    };
    if (config.identityCertificate.isEmpty()) {
        auto cert = readPem(config.tlsCertificate);
        if (!cert)
            return fail(cert.error());
        auto key = readPem(config.tlsKey);
        if (!key)
            return fail(key.error());
        const auto wipe = qScopeGuard([&key] { key->fill('\0'); });
        return ServedIdentity{
            cert->toStdString(), key->toStdString(),
            QStringLiteral("setup-time TLS identity %1").arg(config.tlsCertificate)};
    }
    auto chain = readPem(config.identityCertificate);
    if (!chain)
        return fail(chain.error());
    auto root = readPem(config.bundleRoot);
    if (!root)
        return fail(root.error());
    // A token key is opened (PIN from pin_env) and handed to gRPC through the in-process
    // engine (crypto/TlsKeyEngine.h); a file key is read as PEM.
    HeldPin pin;
    std::shared_ptr<crypto::SigningKey> tokenKey;
    Result<crypto::DeviceKey> key = fail(QStringLiteral("crypto.key-not-found"), QString());
    if (!config.identityKeyUri.isEmpty()) {
        auto opened = crypto::SigningKey::open(
            config.identityKeyUri,
            {config.identityPkcs11Module, pin.provider(config.identityPinEnv)});
        if (!opened)
            return fail(opened.error().withContext(QStringLiteral("opening the device key")));
        tokenKey = std::move(*opened);
    } else {
        key = crypto::DeviceKey::loadFile(config.identityKey);
        if (!key)
            return fail(identityError(key.error(), configPath));
    }
    crypto::DeviceIdentityCheck check;
    check.chain.rootPem = *root;
    check.chain.crlFiles = config.crlFiles;
    check.deviceId = config.deviceId;
    check.key = tokenKey ? tokenKey->evpKey() : key->evpKey();
    auto leaf = crypto::verifyDeviceIdentity(*chain, check);
    if (!leaf)
        return fail(identityError(leaf.error(), configPath));
    const QString description =
        QStringLiteral("device identity %1 (serial %2, valid until %3, key %4)")
            .arg(leaf->commonName(), leaf->serialHex(), leaf->notAfter().toString(Qt::ISODate),
                 tokenKey ? tokenKey->description() : config.identityKey);
    if (tokenKey) {
        auto reference = crypto::tlsKeyReference(std::move(tokenKey));
        if (!reference)
            return fail(reference.error());
        return ServedIdentity{chain->toStdString(), *reference, description};
    }
    auto keyPem = readPem(config.identityKey);
    if (!keyPem)
        return fail(keyPem.error());
    const auto wipe = qScopeGuard([&keyPem] { keyPem->fill('\0'); });
    return ServedIdentity{chain->toStdString(), keyPem->toStdString(), description};
}

}  // namespace otafleet::agent
