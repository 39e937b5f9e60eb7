#include "crypto/Pkcs11Token.h"

#include "crypto/CryptoLogging.h"
#include "crypto/Pkcs11TokenImpl.h"

#include <openssl/rand.h>

#include <optional>

namespace otafleet::crypto {

namespace {

using pkcs11::kEd25519Params;
using pkcs11::kP256Params;
using pkcs11::kP384Params;
using pkcs11::kTokenLabelSize;
using pkcs11::paddedLabelToString;
using pkcs11::pinPointer;
using pkcs11::rvText;
using pkcs11::tokenError;

constexpr int kKeyIdSize = 8;
constexpr CK_ULONG kRsaBits = 3072;
constexpr std::array<unsigned char, 3> kRsaPublicExponent = {0x01, 0x00, 0x01};

std::array<unsigned char, kTokenLabelSize> paddedLabel(const QString& label) {
    std::array<unsigned char, kTokenLabelSize> padded{};
    padded.fill(' ');
    const QByteArray utf8 = label.toUtf8().left(kTokenLabelSize);
    std::copy(utf8.cbegin(), utf8.cend(), padded.begin());
    return padded;
}

}  // namespace

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

Result<Pkcs11Token::GeneratedKey> Pkcs11Token::generateKey(const QString& label, KeyType type) {
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
    auto ed25519 = kEd25519Params;
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
    } else if (type == KeyType::Ed25519) {
        publicTemplate.push_back({CKA_EC_PARAMS, ed25519.data(), ed25519.size()});
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
    CK_MECHANISM mechanism{rsa                        ? CKM_RSA_PKCS_KEY_PAIR_GEN
                           : type == KeyType::Ed25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN
                                                      : CKM_EC_KEY_PAIR_GEN,
                           nullptr, 0};
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
