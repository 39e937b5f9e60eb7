// Internal: the state behind Pkcs11Token (module, function list, session) shared by its two
// source files: Pkcs11Token.cpp (loading, token set-up, key generation) and
// Pkcs11TokenSigning.cpp (finding and signing with keys libp11 cannot use).
#pragma once

#include "crypto/Pkcs11PublicKey.h"
#include "crypto/Pkcs11Token.h"

#include <p11-kit/pkcs11.h>

#include <QList>
#include <QStringList>

#include <dlfcn.h>

#include <array>
#include <mutex>
#include <vector>

namespace otafleet::crypto {

namespace pkcs11 {

inline constexpr std::size_t kTokenLabelSize = 32;  // CK_TOKEN_INFO.label, blank padded
// DER of the named curve prime256v1 (OID 1.2.840.10045.3.1.7), as CKA_EC_PARAMS wants it.
inline constexpr std::array<unsigned char, 10> kP256Params = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                                              0xce, 0x3d, 0x03, 0x01, 0x07};
// DER of secp384r1 (OID 1.3.132.0.34).
inline constexpr std::array<unsigned char, 7> kP384Params = {0x06, 0x05, 0x2b, 0x81,
                                                             0x04, 0x00, 0x22};
// DER of id-Ed25519 (OID 1.3.101.112), the curve of CKM_EC_EDWARDS_KEY_PAIR_GEN.
inline constexpr std::array<unsigned char, 5> kEd25519Params = {0x06, 0x03, 0x2b, 0x65, 0x70};

inline QString rvText(CK_RV rv) {
    return QStringLiteral("PKCS#11 error 0x%1").arg(rv, 8, 16, QChar(u'0'));
}

inline Error tokenError(const QString& what, CK_RV rv) {
    return Error{QStringLiteral("pki.token"),
                 QStringLiteral("%1 failed on the token (%2). Check the module, token label "
                                "and PINs.")
                     .arg(what, rvText(rv))};
}

inline QString paddedLabelToString(const unsigned char* label) {
    return QString::fromUtf8(reinterpret_cast<const char*>(label), kTokenLabelSize).trimmed();
}

inline CK_UTF8CHAR_PTR pinPointer(const SecretString& pin) {
    // PKCS#11 takes the PIN as non-const although it never writes to it.
    return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(pin.c_str()));
}

}  // namespace pkcs11

struct Pkcs11Token::Impl {
    QString modulePath;
    void* library = nullptr;
    CK_FUNCTION_LIST_PTR functions = nullptr;
    bool ownsInitialization = false;
    CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
    // Whether this session's C_Login logged the user in. Login state is per token and process:
    // a session that found the user logged in by libp11 must not log libp11's keys out.
    bool loggedIn = false;
    // The private key openKey found, and its type.
    CK_OBJECT_HANDLE signingKey = CK_INVALID_HANDLE;
    KeyType signingKeyType = KeyType::Ed25519;
    std::mutex signing;  // a session runs one operation at a time

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
            if (loggedIn) {
                functions->C_Logout(session);
            }
            functions->C_CloseSession(session);
            session = CK_INVALID_HANDLE;
            loggedIn = false;
            signingKey = CK_INVALID_HANDLE;
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
            return fail(pkcs11::tokenError(QStringLiteral("Listing slots"), rv));
        }
        std::vector<CK_SLOT_ID> slots(count);
        rv = functions->C_GetSlotList(CK_TRUE, slots.data(), &count);
        if (rv != CKR_OK) {
            return fail(pkcs11::tokenError(QStringLiteral("Listing slots"), rv));
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
            const QString found = pkcs11::paddedLabelToString(entry.info.label);
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
            return fail(pkcs11::tokenError(QStringLiteral("Opening a session"), rv));
        }
        return {};
    }

    Status login(CK_USER_TYPE user, const SecretString& pin) {
        const CK_RV rv = functions->C_Login(session, user, pkcs11::pinPointer(pin),
                                            static_cast<CK_ULONG>(pin.size()));
        if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
            loggedIn = rv == CKR_OK;
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
        return fail(pkcs11::tokenError(QStringLiteral("Logging in"), rv));
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
            return fail(pkcs11::tokenError(QStringLiteral("Reading the public key"), rv));
        }
        QByteArray value(static_cast<qsizetype>(attribute.ulValueLen), Qt::Uninitialized);
        attribute.pValue = value.data();
        rv = functions->C_GetAttributeValue(session, object, &attribute, 1);
        if (rv != CKR_OK) {
            return fail(pkcs11::tokenError(QStringLiteral("Reading the public key"), rv));
        }
        return value;
    }

    // CKA_EC_POINT for EC and Ed25519 keys, CKA_MODULUS and CKA_PUBLIC_EXPONENT for RSA.
    Result<ossl::EvpPkeyPtr> readPublicKey(CK_OBJECT_HANDLE publicKey, KeyType type) const {
        if (type == KeyType::RsaPss) {
            auto modulus = attributeValue(publicKey, CKA_MODULUS);
            auto exponent = attributeValue(publicKey, CKA_PUBLIC_EXPONENT);
            if (!modulus || !exponent) {
                return fail(modulus ? exponent.error() : modulus.error());
            }
            return pkcs11::rsaPublicKey(*modulus, *exponent);
        }
        auto point = attributeValue(publicKey, CKA_EC_POINT);
        if (!point) {
            return fail(point.error());
        }
        return pkcs11::ecPublicKey(*point, type);
    }
};

}  // namespace otafleet::crypto
