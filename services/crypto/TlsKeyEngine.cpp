// The ENGINE API is deprecated in OpenSSL 3 and hidden by OPENSSL_NO_DEPRECATED; it is the only
// key route gRPC 1.51 offers besides PEM, so the define is lifted (and the deprecation warning
// silenced) in this file alone.
#undef OPENSSL_NO_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED

#include "crypto/TlsKeyEngine.h"

#include "crypto/OpenSsl.h"

#include <openssl/engine.h>

#include <QHash>

#include <mutex>

namespace otafleet::crypto {

namespace {

constexpr char kEngineId[] = "otafleet-token-key";

std::mutex& registryMutex() {
    static std::mutex mutex;
    return mutex;
}

QHash<QByteArray, std::shared_ptr<SigningKey>>& registry() {
    static QHash<QByteArray, std::shared_ptr<SigningKey>> keys;
    return keys;
}

EVP_PKEY* loadKey(ENGINE* /*engine*/, const char* keyId, UI_METHOD* /*ui*/, void* /*data*/) {
    const std::lock_guard lock(registryMutex());
    const auto key = registry().value(QByteArray(keyId));
    if (!key) {
        return nullptr;
    }
    EVP_PKEY* evp = key->evpKey();
    EVP_PKEY_up_ref(evp);  // gRPC frees its reference after SSL_CTX_use_PrivateKey
    return evp;
}

// Once per process: ENGINE_add keeps the engine in OpenSSL's list, where ENGINE_by_id finds it.
bool registerEngine() {
    static const bool registered = [] {
        ENGINE* engine = ENGINE_new();
        const bool ok = engine != nullptr && ENGINE_set_id(engine, kEngineId) == 1 &&
                        ENGINE_set_name(engine, "otafleet: keys opened in this process") == 1 &&
                        ENGINE_set_load_privkey_function(engine, loadKey) == 1 &&
                        ENGINE_add(engine) == 1;
        ENGINE_free(engine);  // the list holds its own reference
        return ok;
    }();
    return registered;
}

}  // namespace

Result<std::string> tlsKeyReference(std::shared_ptr<SigningKey> key) {
    if (!registerEngine()) {
        return fail(QStringLiteral("crypto.tls-engine"),
                    QStringLiteral("OpenSSL refused the in-process key engine (%1); serve with a "
                                   "key file instead.")
                        .arg(ossl::takeErrors()));
    }
    const std::lock_guard lock(registryMutex());
    const QByteArray id = QByteArray::number(registry().size() + 1);
    registry().insert(id, std::move(key));
    return std::string("engine:") + kEngineId + ':' + id.toStdString();
}

}  // namespace otafleet::crypto
