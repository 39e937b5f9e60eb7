#include "crypto/Pkcs11Token.h"

#include "crypto/CryptoLogging.h"

#include <p11-kit/pkcs11.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <QList>
#include <QStringList>

#include <dlfcn.h>

#include <array>
#include <vector>

namespace otafleet::crypto {

namespace {

constexpr int kKeyIdSize = 8;
constexpr std::size_t kTokenLabelSize = 32;  // CK_TOKEN_INFO.label, blank padded
// DER of the named curve prime256v1 (OID 1.2.840.10045.3.1.7), as CKA_EC_PARAMS wants it.
constexpr std::array<unsigned char, 10> kP256Params = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                                       0xce, 0x3d, 0x03, 0x01, 0x07};
// DER of secp384r1 (OID 1.3.132.0.34).
constexpr std::array<unsigned char, 7> kP384Params = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr CK_ULONG kRsaBits = 3072;
constexpr std::array<unsigned char, 3> kRsaPublicExponent = {0x01, 0x00, 0x01};

QString rvText(CK_RV rv) {
    return QStringLiteral("PKCS#11 error 0x%1").arg(rv, 8, 16, QChar(u'0'));
}

Error tokenError(const QString& what, CK_RV rv) {
    return Error{QStringLiteral("pki.token"),
                 QStringLiteral("%1 failed on the token (%2). Check the module, token label "
                                "and PINs.")
                     .arg(what, rvText(rv))};
}

QString paddedLabelToString(const unsigned char* label) {
    return QString::fromUtf8(reinterpret_cast<const char*>(label), kTokenLabelSize).trimmed();
}

std::array<unsigned char, kTokenLabelSize> paddedLabel(const QString& label) {
    std::array<unsigned char, kTokenLabelSize> padded{};
    padded.fill(' ');
    const QByteArray utf8 = label.toUtf8().left(kTokenLabelSize);
    std::copy(utf8.cbegin(), utf8.cend(), padded.begin());
    return padded;
}

CK_UTF8CHAR_PTR pinPointer(const SecretString& pin) {
    // PKCS#11 takes the PIN as non-const although it never writes to it.
    return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.c_str()));
}

}  // namespace

struct Pkcs11Token::Impl {
    QString modulePath;
    void* library = nullptr;
    CK_FUNCTION_LIST_PTR functions = nullptr;
    bool ownsInitialization = false;
    CK_SESSION_HANDLE session = CK_INVALID_HANDLE;

    ~Impl() {
        closeSession();
        if (functions != nullptr && ownsInitialization) {
            functions->C_Finalize(nullptr);
        }
        if (library != nullptr) {
            dlclose(library);
        }
    }

    void closeSession() {
        if (session != CK_INVALID_HANDLE) {
            functions->C_Logout(session);
            functions->C_CloseSession(session);
            session = CK_INVALID_HANDLE;
        }
    }

    struct SlotToken {
        CK_SLOT_ID slot;
        CK_TOKEN_INFO info;
    };

    Result<QList<SlotToken>> slotsWithTokens() const {
        CK_ULONG count = 0;
        CK_RV rv = functions->C_GetSlotList(CK_TRUE, nullptr, &count);
        if (rv != CKR_OK) {
            return fail(tokenError(QStringLiteral("Listing slots"), rv));
        }
        std::vector<CK_SLOT_ID> slots(count);
        rv = functions->C_GetSlotList(CK_TRUE, slots.data(), &count);
        if (rv != CKR_OK) {
            return fail(tokenError(QStringLiteral("Listing slots"), rv));
        }
        QList<SlotToken> result;
        for (CK_ULONG i = 0; i < count; ++i) {
            SlotToken entry{slots[i], {}};
            if (functions->C_GetTokenInfo(slots[i], &entry.info) == CKR_OK) {
                result.append(entry);
            }
        }
        return result;
    }

    Result<CK_SLOT_ID> findSlot(const QString& label) const {
        auto slots = slotsWithTokens();
        if (!slots) {
            return fail(slots.error());
        }
        QStringList seen;
        for (const SlotToken& entry : *slots) {
            if ((entry.info.flags & CKF_TOKEN_INITIALIZED) == 0) {
                continue;
            }
            const QString found = paddedLabelToString(entry.info.label);
            if (found == label) {
                return entry.slot;
            }
            seen.append(found);
        }
        return fail(
            QStringLiteral("crypto.token-not-found"),
            QStringLiteral("No token labelled \"%1\" is present in %2 (found: %3). Check "
                           "--token-label and that the token is plugged in.")
                .arg(label, modulePath, seen.isEmpty() ? QStringLiteral("none") : seen.join(u',')));
    }

    Status openSession(CK_SLOT_ID slot) {
        closeSession();
        const CK_RV rv = functions->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                                  nullptr, nullptr, &session);
        if (rv != CKR_OK) {
            session = CK_INVALID_HANDLE;
            return fail(tokenError(QStringLiteral("Opening a session"), rv));
        }
        return {};
    }

    Status login(CK_USER_TYPE user, const SecretString& pin) {
        const CK_RV rv =
            functions->C_Login(session, user, pinPointer(pin), static_cast<CK_ULONG>(pin.size()));
        if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
            return {};
        }
        if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE) {
            return fail(QStringLiteral("crypto.pin-incorrect"),
                        QStringLiteral("The token refused the %1 PIN. Enter the right PIN; "
                                       "after too many wrong tries the token locks.")
                            .arg(user == CKU_SO ? QStringLiteral("security officer")
                                                : QStringLiteral("user")));
        }
        if (rv == CKR_PIN_LOCKED) {
            return fail(QStringLiteral("crypto.pin-locked"),
                        QStringLiteral("The token's PIN is locked after too many wrong tries. "
                                       "The security officer must unlock it."));
        }
        return fail(tokenError(QStringLiteral("Logging in"), rv));
    }

    bool hasPrivateKey(const QString& label) const {
        const QByteArray utf8 = label.toUtf8();
        CK_OBJECT_CLASS keyClass = CKO_PRIVATE_KEY;
        std::array<CK_ATTRIBUTE, 2> filter = {{
            {CKA_CLASS, &keyClass, sizeof keyClass},
            {CKA_LABEL, const_cast<char*>(utf8.constData()), static_cast<CK_ULONG>(utf8.size())},
        }};
        if (functions->C_FindObjectsInit(session, filter.data(), filter.size()) != CKR_OK) {
            return false;
        }
        CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
        CK_ULONG found = 0;
        functions->C_FindObjects(session, &object, 1, &found);
        functions->C_FindObjectsFinal(session);
        return found > 0;
    }

    Result<QByteArray> attributeValue(CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) const {
        CK_ATTRIBUTE attribute{type, nullptr, 0};
        CK_RV rv = functions->C_GetAttributeValue(session, object, &attribute, 1);
        if (rv != CKR_OK) {
            return fail(tokenError(QStringLiteral("Reading the public key"), rv));
        }
        QByteArray value(static_cast<qsizetype>(attribute.ulValueLen), Qt::Uninitialized);
        attribute.pValue = value.data();
        rv = functions->C_GetAttributeValue(session, object, &attribute, 1);
        if (rv != CKR_OK) {
            return fail(tokenError(QStringLiteral("Reading the public key"), rv));
        }
        return value;
    }

    Result<ossl::EvpPkeyPtr> readRsaPublicKey(CK_OBJECT_HANDLE publicKey) const {
        auto modulus = attributeValue(publicKey, CKA_MODULUS);
        auto exponent = attributeValue(publicKey, CKA_PUBLIC_EXPONENT);
        if (!modulus || !exponent) {
            return fail(modulus ? exponent.error() : modulus.error());
        }
        const auto toBn = [](const QByteArray& bytes) {
            return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.constData()),
                             static_cast<int>(bytes.size()), nullptr);
        };
        using BnPtr = std::unique_ptr<BIGNUM, ossl::Deleter<BN_free>>;
        const BnPtr n(toBn(*modulus));
        const BnPtr e(toBn(*exponent));
        using BuildPtr = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD_free>>;
        using ParamsPtr = std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM_free>>;
        const BuildPtr build(OSSL_PARAM_BLD_new());
        if (!n || !e || !build || OSSL_PARAM_BLD_push_BN(build.get(), "n", n.get()) != 1 ||
            OSSL_PARAM_BLD_push_BN(build.get(), "e", e.get()) != 1) {
            return fail(unreadablePublicKey());
        }
        const ParamsPtr params(OSSL_PARAM_BLD_to_param(build.get()));
        ossl::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
        EVP_PKEY* key = nullptr;
        if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
            EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
            return fail(unreadablePublicKey());
        }
        return ossl::EvpPkeyPtr(key);
    }

    static Error unreadablePublicKey() {
        return Error{QStringLiteral("pki.token"),
                     QStringLiteral("The token returned a public key OpenSSL cannot read (%1).")
                         .arg(ossl::takeErrors())};
    }

    Result<ossl::EvpPkeyPtr> readPublicKey(CK_OBJECT_HANDLE publicKey, KeyType type) const {
        if (type == KeyType::RsaPss) {
            return readRsaPublicKey(publicKey);
        }
        auto value = attributeValue(publicKey, CKA_EC_POINT);
        if (!value) {
            return fail(value.error());
        }
        QByteArray point = *value;
        // PKCS#11 2.20+ wraps the point in a DER OCTET STRING; some modules give it bare.
        const auto* cursor = reinterpret_cast<const unsigned char*>(point.constData());
        if (ASN1_OCTET_STRING* wrapped = d2i_ASN1_OCTET_STRING(nullptr, &cursor, point.size())) {
            point = QByteArray(reinterpret_cast<const char*>(ASN1_STRING_get0_data(wrapped)),
                               ASN1_STRING_length(wrapped));
            ASN1_OCTET_STRING_free(wrapped);
        }
        ossl::clearErrors();

        char p256[] = "prime256v1";
        char p384[] = "secp384r1";
        char* group = type == KeyType::P384 ? p384 : p256;
        const std::array<OSSL_PARAM, 3> params = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                              static_cast<size_t>(point.size())),
            OSSL_PARAM_construct_end()};
        ossl::EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
        EVP_PKEY* key = nullptr;
        if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
            EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY,
                              const_cast<OSSL_PARAM*>(params.data())) != 1) {
            return fail(QStringLiteral("pki.token"),
                        QStringLiteral("The token returned a public key OpenSSL cannot read "
                                       "(%1).")
                            .arg(ossl::takeErrors()));
        }
        return ossl::EvpPkeyPtr(key);
    }
};

Pkcs11Token::Pkcs11Token(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}

Pkcs11Token::~Pkcs11Token() = default;

Result<std::unique_ptr<Pkcs11Token>> Pkcs11Token::load(const QString& modulePath) {
    auto impl = std::make_unique<Impl>();
    impl->modulePath = modulePath;
    impl->library = dlopen(modulePath.toLocal8Bit().constData(), RTLD_NOW | RTLD_LOCAL);
    if (impl->library == nullptr) {
        return fail(QStringLiteral("crypto.pkcs11-module"),
                    QStringLiteral("Cannot load the PKCS#11 module %1 (%2). Check "
                                   "--pkcs11-module and that the module is installed.")
                        .arg(modulePath, QString::fromLocal8Bit(dlerror())));
    }
    auto getFunctionList =
        reinterpret_cast<CK_C_GetFunctionList>(dlsym(impl->library, "C_GetFunctionList"));
    if (getFunctionList == nullptr || getFunctionList(&impl->functions) != CKR_OK ||
        impl->functions == nullptr) {
        return fail(
            QStringLiteral("crypto.pkcs11-module"),
            QStringLiteral("%1 is not a PKCS#11 module (no C_GetFunctionList).").arg(modulePath));
    }
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    const CK_RV rv = impl->functions->C_Initialize(&args);
    if (rv == CKR_OK) {
        impl->ownsInitialization = true;
    } else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        // Someone else (libp11) may have initialised it in this process; then we share it and
        // leave finalising to them.
        impl->functions = nullptr;
        return fail(QStringLiteral("crypto.pkcs11-module"),
                    QStringLiteral("The PKCS#11 module %1 failed to initialise (%2). For SoftHSM, "
                                   "check SOFTHSM2_CONF and the token directory.")
                        .arg(modulePath, rvText(rv)));
    }
    return std::unique_ptr<Pkcs11Token>(new Pkcs11Token(std::move(impl)));
}

Status Pkcs11Token::initialize(const QString& label, const SecretString& soPin,
                               const SecretString& userPin) {
    auto slots = d->slotsWithTokens();
    if (!slots) {
        return fail(slots.error());
    }
    std::optional<CK_SLOT_ID> target;
    for (const auto& entry : *slots) {
        if ((entry.info.flags & CKF_TOKEN_INITIALIZED) != 0 &&
            paddedLabelToString(entry.info.label) == label) {
            target = entry.slot;  // re-initialising wipes it; the SO PIN must match
            break;
        }
    }
    for (const auto& entry : *slots) {
        if (!target && (entry.info.flags & CKF_TOKEN_INITIALIZED) == 0) {
            target = entry.slot;
        }
    }
    if (!target) {
        return fail(QStringLiteral("pki.token"),
                    QStringLiteral("The PKCS#11 module %1 has no free slot to initialise a token "
                                   "labelled \"%2\" in.")
                        .arg(d->modulePath, label));
    }
    d->closeSession();
    auto padded = paddedLabel(label);
    CK_RV rv = d->functions->C_InitToken(*target, pinPointer(soPin),
                                         static_cast<CK_ULONG>(soPin.size()), padded.data());
    if (rv == CKR_PIN_INCORRECT) {
        return fail(QStringLiteral("crypto.pin-incorrect"),
                    QStringLiteral("The token refused the security officer PIN, so it was not "
                                   "re-initialised. Enter the SO PIN it was set up with."));
    }
    if (rv != CKR_OK) {
        return fail(tokenError(QStringLiteral("Initialising the token"), rv));
    }
    // SoftHSM moves a freshly initialised token to a new slot id; look it up again by label.
    auto slot = d->findSlot(label);
    if (!slot) {
        return fail(slot.error());
    }
    if (auto status = d->openSession(*slot); !status) {
        return status;
    }
    if (auto status = d->login(CKU_SO, soPin); !status) {
        return status;
    }
    rv = d->functions->C_InitPIN(d->session, pinPointer(userPin),
                                 static_cast<CK_ULONG>(userPin.size()));
    d->closeSession();
    if (rv != CKR_OK) {
        return fail(tokenError(QStringLiteral("Setting the user PIN"), rv));
    }
    qCInfo(lcCrypto) << "initialised PKCS#11 token" << label << "in" << d->modulePath;
    return {};
}

Status Pkcs11Token::open(const QString& label, const SecretString& userPin) {
    auto slot = d->findSlot(label);
    if (!slot) {
        return fail(slot.error());
    }
    if (auto status = d->openSession(*slot); !status) {
        return status;
    }
    return d->login(CKU_USER, userPin);
}

Error Pkcs11Token::generateKeyUnsupported(KeyType type) {
    if (type != KeyType::Ed25519) {
        return {};
    }
    // SoftHSM could generate it (CKM_EC_EDWARDS_KEY_PAIR_GEN), but neither libp11 0.4.12 (no
    // EdDSA keys) nor OpenSSL 3.0's CMS (no RFC 8419) could then sign anything with it.
    return Error{QStringLiteral("crypto.key-type-unsupported-by-token"),
                 QStringLiteral("Ed25519 keys cannot be used from a PKCS#11 token here: libp11 "
                                "0.4.12 cannot sign with EdDSA token keys. Use --key-type p256, "
                                "p384 or rsa-pss with a token, or Ed25519 key files.")};
}

Result<Pkcs11Token::GeneratedKey> Pkcs11Token::generateKey(const QString& label, KeyType type) {
    if (Error unsupported = generateKeyUnsupported(type); !unsupported.code.isEmpty()) {
        return fail(std::move(unsupported));
    }
    if (d->session == CK_INVALID_HANDLE) {
        return fail(QStringLiteral("pki.token"),
                    QStringLiteral("Internal error: no token session to generate a key in."));
    }
    if (d->hasPrivateKey(label)) {
        return fail(QStringLiteral("pki.token"),
                    QStringLiteral("The token already holds a key labelled \"%1\". Use a fresh "
                                   "token or --init-token to wipe it.")
                        .arg(label));
    }
    QByteArray id(kKeyIdSize, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(id.data()), kKeyIdSize) != 1) {
        return fail(QStringLiteral("pki.token"),
                    QStringLiteral("No randomness for a key id (%1).").arg(ossl::takeErrors()));
    }
    QByteArray labelUtf8 = label.toUtf8();
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    auto p256 = kP256Params;
    auto p384 = kP384Params;
    auto exponent = kRsaPublicExponent;
    CK_ULONG bits = kRsaBits;
    const bool rsa = type == KeyType::RsaPss;
    // Signing keys and nothing else: SoftHSM would otherwise default to encrypt/decrypt and
    // wrap/unwrap rights as well.
    std::vector<CK_ATTRIBUTE> publicTemplate = {
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &no, sizeof no},
        {CKA_VERIFY, &yes, sizeof yes},
        {CKA_ENCRYPT, &no, sizeof no},
        {CKA_WRAP, &no, sizeof no},
        {CKA_LABEL, labelUtf8.data(), static_cast<CK_ULONG>(labelUtf8.size())},
        {CKA_ID, id.data(), static_cast<CK_ULONG>(id.size())},
    };
    if (rsa) {
        publicTemplate.push_back({CKA_MODULUS_BITS, &bits, sizeof bits});
        publicTemplate.push_back({CKA_PUBLIC_EXPONENT, exponent.data(), exponent.size()});
    } else if (type == KeyType::P384) {
        publicTemplate.push_back({CKA_EC_PARAMS, p384.data(), p384.size()});
    } else {
        publicTemplate.push_back({CKA_EC_PARAMS, p256.data(), p256.size()});
    }
    std::array<CK_ATTRIBUTE, 10> privateTemplate = {{
        {CKA_TOKEN, &yes, sizeof yes},
        {CKA_PRIVATE, &yes, sizeof yes},
        {CKA_SENSITIVE, &yes, sizeof yes},
        {CKA_EXTRACTABLE, &no, sizeof no},
        {CKA_SIGN, &yes, sizeof yes},
        {CKA_DECRYPT, &no, sizeof no},
        {CKA_UNWRAP, &no, sizeof no},
        {CKA_DERIVE, &no, sizeof no},
        {CKA_LABEL, labelUtf8.data(), static_cast<CK_ULONG>(labelUtf8.size())},
        {CKA_ID, id.data(), static_cast<CK_ULONG>(id.size())},
    }};
    CK_MECHANISM mechanism{rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE publicKey = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE privateKey = CK_INVALID_HANDLE;
    const CK_RV rv = d->functions->C_GenerateKeyPair(
        d->session, &mechanism, publicTemplate.data(), publicTemplate.size(),
        privateTemplate.data(), privateTemplate.size(), &publicKey, &privateKey);
    if (rv != CKR_OK) {
        return fail(tokenError(QStringLiteral("Generating the key \"%1\"").arg(label), rv));
    }
    auto evpKey = d->readPublicKey(publicKey, type);
    if (!evpKey) {
        return fail(evpKey.error());
    }
    return GeneratedKey{std::move(*evpKey), id};
}

}  // namespace otafleet::crypto
