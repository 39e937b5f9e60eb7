// The key algorithms otafleet's PKI and release signing use, and what each signs with: ECDSA
// P-256 (SHA-256), ECDSA P-384 (SHA-384), Ed25519 (pure EdDSA) and RSA-PSS 3072 (SHA-256, MGF1
// SHA-256, 32-byte salt). One place decides the digest and padding so certificates, CRLs and CMS
// signatures of a key always agree.
#pragma once

#include "common/Error.h"

#include <QString>
#include <QStringList>

#include <optional>

using EVP_PKEY = struct evp_pkey_st;
using EVP_MD = struct evp_md_st;
using EVP_PKEY_CTX = struct evp_pkey_ctx_st;

namespace otafleet::crypto {

enum class KeyType { P256, P384, Ed25519, RsaPss };

// "p256", "p384", "ed25519", "rsa-pss": the --key-type values and what pki.json records.
[[nodiscard]] QString keyTypeName(KeyType type);
[[nodiscard]] std::optional<KeyType> parseKeyType(const QString& text);
[[nodiscard]] QStringList keyTypeNames();
// Error crypto.key-type-unknown listing the valid names.
[[nodiscard]] Result<KeyType> parseKeyTypeOrFail(const QString& text);

// The type of an existing key (software, token or public), or nullopt for anything else.
[[nodiscard]] std::optional<KeyType> keyTypeOf(EVP_PKEY* key);

namespace ossl {
// The digest a key signs with; nullptr for Ed25519 (pure EdDSA hashes internally).
[[nodiscard]] const EVP_MD* signingDigest(EVP_PKEY* key);
// For RSA keys: PSS padding, MGF1 with the signing digest and a 32-byte salt. No-op otherwise.
[[nodiscard]] bool configureSignature(EVP_PKEY_CTX* context, EVP_PKEY* key);
}  // namespace ossl

}  // namespace otafleet::crypto
