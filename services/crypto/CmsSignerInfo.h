// Internal: SignerInfo-level signing and checking for Cms.cpp and CmsVerify.cpp. OpenSSL 3.0's
// CMS code cannot sign or verify Ed25519 (it hands a digest to EdDSA; RFC 8419 is missing), so
// Ed25519 SignerInfos are built and checked here around OpenSSL primitives: digestAlgorithm
// SHA-512, signatureAlgorithm id-Ed25519, signed attributes content-type, signing-time and
// message-digest, and a pure Ed25519 signature over the DER SET OF those attributes. The same
// builder makes the SignerInfos of token keys OpenSSL cannot sign with (SigningKey::sign());
// OpenSSL's own CMS code checks every non-Ed25519 SignerInfo. Both run behind verifySignatures.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"
#include "crypto/OpenSsl.h"
#include "crypto/SigningKey.h"

#include <QByteArrayView>

namespace otafleet::crypto::cms {

// True when this key's SignerInfos are built by addOwnSigner: Ed25519 keys, and keys only
// SigningKey::sign() can use.
[[nodiscard]] bool signsOwnSignerInfo(const SigningKey& key);

// Adds a complete, signed SignerInfo for `signer` over `content` to the SignedData `cms`
// (`flags` as for CMS_add1_signer): RFC 8419 for Ed25519, else with the key type's digest and
// signature algorithm (crypto/KeyType.h). Checks it before returning. Error crypto.sign-failed.
[[nodiscard]] Status addOwnSigner(CMS_ContentInfo* cms, QByteArrayView content,
                                  const SigningKey& key, const Certificate& signer,
                                  unsigned int flags);

// Writes the signatureAlgorithm of a non-Ed25519 key into `info`, as the provider reports it for
// a verification context configured like signing (PSS parameters included).
[[nodiscard]] bool setSignatureAlgorithm(CMS_SignerInfo* info, EVP_PKEY* publicKey);

// Checks the signature of every SignerInfo over `content` (signed attributes, message digest);
// nothing about trust. Finds each signer's certificate among the SignedData's certificates and
// `extraCerts`, so CMS_get0_signers works afterwards. The error's code is
// crypto.untrusted-signer (a signer certificate is missing) or crypto.signature-invalid; its
// message is only the reason, for the caller to put into its own sentence.
[[nodiscard]] Status verifySignatures(CMS_ContentInfo* cms, QByteArrayView content,
                                      STACK_OF(X509) * extraCerts);

}  // namespace otafleet::crypto::cms
