// libp11 0.4.12's public header declares functions returning RSA_METHOD and EC_KEY_METHOD,
// types OpenSSL 3 hides under OPENSSL_NO_DEPRECATED. This file only includes that header and
// calls no deprecated OpenSSL function itself, so the define is lifted here and nowhere else.
#undef OPENSSL_NO_DEPRECATED

#include "crypto/Pkcs11SigningKey.h"

#include "crypto/CryptoLogging.h"
#include "crypto/OpenSsl.h"
#include "crypto/Pkcs11Token.h"
#include "crypto/Pkcs11Uri.h"

#include <libp11.h>
#include <openssl/err.h>

#include <QHash>
#include <QStringList>

#include <mutex>

namespace otafleet::crypto {

namespace {

constexpr const char* kDefaultModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr unsigned long kCkrPinIncorrect = 0xa0;  // CKR_PIN_INCORRECT
constexpr unsigned long kCkrPinLocked = 0xa4;     // CKR_PIN_LOCKED

// One libp11 context per module path for the whole process. PKCS#11 allows one C_Initialize
// per process and login state is shared by all sessions, so every key of a module must share
// the context; it is unloaded (C_Finalize) when the last key using it is gone.
struct LibP11Module {
    PKCS11_CTX* context = nullptr;
    PKCS11_SLOT* slots = nullptr;
    unsigned int slotCount = 0;
    bool loaded = false;  // PKCS11_CTX_unload crashes on a context whose load failed

    ~LibP11Module() {
        if (slots != nullptr) {
            PKCS11_release_all_slots(context, slots, slotCount);
        }
        if (loaded) {
            PKCS11_CTX_unload(context);
        }
        if (context != nullptr) {
            PKCS11_CTX_free(context);
        }
    }
};

std::mutex gModulesMutex;
QHash<QString, std::weak_ptr<LibP11Module>> gModules;

Result<std::shared_ptr<LibP11Module>> loadModule(const QString& path) {
    const std::lock_guard lock(gModulesMutex);
    if (auto existing = gModules.value(path).lock()) {
        return existing;
    }
    auto module = std::make_shared<LibP11Module>();
    module->context = PKCS11_CTX_new();
    if (module->context == nullptr ||
        PKCS11_CTX_load(module->context, path.toLocal8Bit().constData()) != 0) {
        return fail(QStringLiteral("crypto.pkcs11-module"),
                    QStringLiteral("Cannot load the PKCS#11 module %1 (%2). Check "
                                   "--pkcs11-module and, for SoftHSM, SOFTHSM2_CONF.")
                        .arg(path, ossl::takeErrors(QStringLiteral("load failed"))));
    }
    module->loaded = true;
    if (PKCS11_enumerate_slots(module->context, &module->slots, &module->slotCount) != 0) {
        module->slots = nullptr;
        return fail(QStringLiteral("crypto.pkcs11-module"),
                    QStringLiteral("The PKCS#11 module %1 cannot list its slots (%2).")
                        .arg(path, ossl::takeErrors()));
    }
    gModules.insert(path, module);
    return module;
}

class Pkcs11SigningKey final : public SigningKey {
public:
    Pkcs11SigningKey(std::shared_ptr<LibP11Module> module, ossl::EvpPkeyPtr key,
                     QString description)
        : m_module(std::move(module)),
          m_key(std::move(key)),
          m_description(std::move(description)) {}

    ~Pkcs11SigningKey() override {
        // The EVP_PKEY refers into the module's key objects: release it first.
        m_key.reset();
        const std::lock_guard lock(gModulesMutex);
        m_module.reset();
    }

    EVP_PKEY* evpKey() const override { return m_key.get(); }
    bool isHardware() const override { return true; }
    QString description() const override { return m_description; }

private:
    std::shared_ptr<LibP11Module> m_module;
    ossl::EvpPkeyPtr m_key;
    QString m_description;
};

// A key of a token that holds Ed25519 keys. libp11 0.4.12 cannot use EdDSA keys and cannot
// list any key of such a token, so the key is found and used through raw PKCS#11, in a session
// of the module libp11 initialised and logged in to (kept loaded by holding the module).
// OpenSSL sees only its public half; everything signs through sign().
class Pkcs11RawSigningKey final : public SigningKey {
public:
    Pkcs11RawSigningKey(std::shared_ptr<LibP11Module> module, std::unique_ptr<Pkcs11Token> token,
                        ossl::EvpPkeyPtr publicKey, QString description)
        : m_module(std::move(module)),
          m_token(std::move(token)),
          m_publicKey(std::move(publicKey)),
          m_description(std::move(description)) {}

    ~Pkcs11RawSigningKey() override {
        m_token.reset();  // closes its session while the module is still initialised
        const std::lock_guard lock(gModulesMutex);
        m_module.reset();
    }

    EVP_PKEY* evpKey() const override { return m_publicKey.get(); }
    bool isHardware() const override { return true; }
    bool openSslCanSign() const override { return false; }
    QString description() const override { return m_description; }
    Result<QByteArray> sign(QByteArrayView message) const override {
        return m_token->sign(message);
    }

private:
    std::shared_ptr<LibP11Module> m_module;
    std::unique_ptr<Pkcs11Token> m_token;
    ossl::EvpPkeyPtr m_publicKey;
    QString m_description;
};

Result<std::unique_ptr<SigningKey>> openRawKey(std::shared_ptr<LibP11Module> module,
                                               const QString& modulePath, const QString& tokenLabel,
                                               const Pkcs11Uri& uri, const QString& description) {
    auto token = Pkcs11Token::load(modulePath);
    if (!token) {
        return fail(token.error());
    }
    auto opened = (*token)->openKey(tokenLabel, uri.object, uri.id);
    if (!opened) {
        return fail(opened.error());
    }
    qCDebug(lcCrypto) << "opened token key" << description << "through raw PKCS#11 ("
                      << keyTypeName(opened->type) << ")";
    return std::unique_ptr<SigningKey>(new Pkcs11RawSigningKey(
        std::move(module), std::move(*token), std::move(opened->publicKey), description));
}

Status login(PKCS11_SLOT* slot, const QString& label, const KeyOpenOptions& options) {
    int loggedIn = 0;
    if (PKCS11_is_logged_in(slot, 0, &loggedIn) == 0 && loggedIn != 0) {
        return {};  // another live key of this process logged in already
    }
    if (slot->token->loginRequired == 0) {
        return {};
    }
    if (!options.pinProvider) {
        return fail(QStringLiteral("crypto.pin-missing"),
                    QStringLiteral("The token \"%1\" needs a PIN but none can be asked for. Pass "
                                   "it with --pin-env.")
                        .arg(label));
    }
    auto pin = options.pinProvider();
    if (!pin) {
        return fail(pin.error());
    }
    ossl::clearErrors();
    if (PKCS11_login(slot, 0, pin->c_str()) == 0) {
        return {};
    }
    const unsigned long reason = ERR_GET_REASON(ERR_peek_last_error());
    const QString detail = ossl::takeErrors(QStringLiteral("login refused"));
    if (reason == kCkrPinLocked || slot->token->userPinLocked != 0) {
        return fail(QStringLiteral("crypto.pin-locked"),
                    QStringLiteral("The PIN of token \"%1\" is locked after too many wrong tries. "
                                   "The security officer must unlock it.")
                        .arg(label));
    }
    if (reason == kCkrPinIncorrect) {
        return fail(QStringLiteral("crypto.pin-incorrect"),
                    QStringLiteral("The token \"%1\" refused the PIN. Enter the right PIN; after "
                                   "too many wrong tries the token locks.")
                        .arg(label));
    }
    return fail(QStringLiteral("crypto.pin-incorrect"),
                QStringLiteral("Logging in to token \"%1\" failed (%2). Check the PIN.")
                    .arg(label, detail));
}

}  // namespace

QString resolvePkcs11Module(const QString& explicitModule, const QString& uriModulePath) {
    if (!explicitModule.isEmpty()) {
        return explicitModule;
    }
    if (!uriModulePath.isEmpty()) {
        return uriModulePath;
    }
    const QString fromEnvironment = qEnvironmentVariable("OTAFLEET_PKCS11_MODULE");
    return fromEnvironment.isEmpty() ? QString::fromLatin1(kDefaultModule) : fromEnvironment;
}

Result<std::unique_ptr<SigningKey>> openPkcs11SigningKey(const QString& uri,
                                                         const KeyOpenOptions& options) {
    auto parsed = Pkcs11Uri::parse(uri);
    if (!parsed) {
        return fail(parsed.error());
    }
    const QString modulePath = resolvePkcs11Module(options.pkcs11Module, parsed->modulePath);
    auto module = loadModule(modulePath);
    if (!module) {
        return fail(module.error());
    }

    PKCS11_SLOT* slot = nullptr;
    QStringList seen;
    for (unsigned int i = 0; i < (*module)->slotCount; ++i) {
        PKCS11_SLOT* candidate = (*module)->slots + i;
        if (candidate->token == nullptr || candidate->token->initialized == 0) {
            continue;
        }
        const QString label = QString::fromUtf8(candidate->token->label);
        if (parsed->token.isEmpty() || label == parsed->token) {
            slot = candidate;
            break;
        }
        seen.append(label);
    }
    if (slot == nullptr) {
        return fail(QStringLiteral("crypto.token-not-found"),
                    QStringLiteral("No token labelled \"%1\" is present in %2 (found: %3). Check "
                                   "the token label and that the token is plugged in.")
                        .arg(parsed->token, modulePath,
                             seen.isEmpty() ? QStringLiteral("none") : seen.join(u',')));
    }
    const QString tokenLabel = QString::fromUtf8(slot->token->label);
    if (auto status = login(slot, tokenLabel, options); !status) {
        return fail(status.error());
    }

    Pkcs11Uri withoutModule = *parsed;
    withoutModule.modulePath.clear();
    const QString description = withoutModule.toString();
    PKCS11_KEY* keys = nullptr;
    unsigned int keyCount = 0;
    const bool listed = PKCS11_enumerate_keys(slot->token, &keys, &keyCount) == 0;
    const QString listError = listed ? QString() : ossl::takeErrors();
    PKCS11_KEY* match = nullptr;
    for (unsigned int i = 0; listed && i < keyCount && match == nullptr; ++i) {
        PKCS11_KEY* key = keys + i;
        const bool labelMatches =
            parsed->object.isEmpty() ||
            (key->label != nullptr && QString::fromUtf8(key->label) == parsed->object);
        const bool idMatches =
            parsed->id.isEmpty() || QByteArray(reinterpret_cast<const char*>(key->id),
                                               static_cast<qsizetype>(key->id_len)) == parsed->id;
        if (key->isPrivate != 0 && labelMatches && idMatches) {
            match = key;
        }
    }
    if (!listed) {
        // libp11 0.4.12 cannot list any key of a token that holds an EdDSA key
        // (PKCS11_enumerate_keys fails): find the key through raw PKCS#11 instead.
        qCDebug(lcCrypto).noquote() << "libp11 cannot list token" << tokenLabel << ":" << listError;
        return openRawKey(*module, modulePath, tokenLabel, *parsed, description);
    }
    if (match == nullptr) {
        return fail(QStringLiteral("crypto.key-not-found"),
                    QStringLiteral("The token \"%1\" holds no private key matching %2. Check the "
                                   "key reference (object= label, id=).")
                        .arg(tokenLabel, description));
    }
    ossl::EvpPkeyPtr evpKey(PKCS11_get_private_key(match));
    if (!evpKey) {
        return fail(QStringLiteral("crypto.key-unreadable"),
                    QStringLiteral("libp11 cannot use the key %1 (%2).")
                        .arg(description, ossl::takeErrors()));
    }
    qCDebug(lcCrypto) << "opened token key" << description;
    return std::unique_ptr<SigningKey>(
        new Pkcs11SigningKey(std::move(*module), std::move(evpKey), description));
}

}  // namespace otafleet::crypto
