// DeviceKey in a PKCS#11 token: kept apart from DeviceIdentity.cpp because it drives the raw
// token (key generation) and libp11 (signing) one after the other.
#include "crypto/DeviceIdentity.h"

#include "crypto/Pkcs11SigningKey.h"
#include "crypto/Pkcs11Token.h"
#include "crypto/Pkcs11Uri.h"

namespace otafleet::crypto {

Result<DeviceKey> DeviceKey::openOrCreateInToken(const QString& uri,
                                                 const KeyOpenOptions& options) {
    auto parsed = Pkcs11Uri::parse(uri);
    if (!parsed) {
        return fail(parsed.error());
    }
    if (parsed->token.isEmpty() || parsed->object.isEmpty()) {
        return fail(QStringLiteral("crypto.key-reference-invalid"),
                    QStringLiteral("A device key URI names its token and key label, for example "
                                   "pkcs11:token=device;object=identity."));
    }
    auto opened = SigningKey::open(uri, options);
    if (!opened && opened.error().code != u"crypto.key-not-found") {
        return fail(opened.error());
    }
    if (!opened) {
        auto pin = options.pinProvider
                       ? options.pinProvider()
                       : Result<SecretString>(fail(QStringLiteral("crypto.pin-missing"),
                                                   QStringLiteral("The token needs a PIN; pass "
                                                                  "--pin-env VAR.")));
        if (!pin) {
            return fail(pin.error());
        }
        {
            // The raw module is finalised when `token` dies, before libp11 opens the new key.
            auto token =
                Pkcs11Token::load(resolvePkcs11Module(options.pkcs11Module, parsed->modulePath));
            if (!token) {
                return fail(token.error());
            }
            if (auto status = (*token)->open(parsed->token, *pin); !status) {
                return fail(status.error());
            }
            if (auto generated = (*token)->generateKey(parsed->object, KeyType::P256); !generated) {
                return fail(generated.error());
            }
        }
        opened = SigningKey::open(uri, options);
        if (!opened) {
            return fail(opened.error());
        }
    }
    DeviceKey result;
    result.m_token = std::shared_ptr<SigningKey>(std::move(*opened));
    return result;
}

}  // namespace otafleet::crypto
