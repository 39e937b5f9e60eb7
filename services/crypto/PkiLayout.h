// Internal: file names and pki.json keys of the on-disk PKI, shared by Pki::init and Pki::open
// so the two can never disagree. The layout itself is documented in Pki.h.
#pragma once

#include <QLatin1String>

namespace otafleet::crypto::layout {

inline constexpr int kFormatVersion = 1;
// pki.json lists every issued leaf (a few hundred bytes each): room for a large fleet.
inline constexpr qint64 kMaxPkiJsonSize = 16 * 1024 * 1024;
inline constexpr qint64 kMaxPemFileSize = 1024 * 1024;
inline constexpr int kServerValidityDays = 825;
inline constexpr int kDeviceValidityDays = 3650;  // devices live long; revocation ends them

inline const QLatin1String kPkiJson("pki.json");
inline const QLatin1String kRootCa("root-ca.pem");
inline const QLatin1String kCaDir("ca");
inline const QLatin1String kKeysDir("keys");
inline const QLatin1String kIssuedDir("issued");
inline const QLatin1String kReleaseCert("release.pem");
inline const QLatin1String kOperatorCert("operator.pem");
inline const QLatin1String kOperatorKey("operator.key");

// Key names: token object labels, keys/<name>.key files, and pki.json "keys" members.
inline const QLatin1String kRootKey("root-ca");
inline const QLatin1String kReleaseCaKey("release-ca");
inline const QLatin1String kDeviceCaKey("device-ca");
inline const QLatin1String kServerCaKey("server-ca");
inline const QLatin1String kOperatorCaKey("operator-ca");
inline const QLatin1String kReleaseKey("release");

// pki.json members.
inline const QLatin1String kJsonFormat("format");
inline const QLatin1String kJsonKeyStorage("key_storage");
inline const QLatin1String kJsonKeyType("key_type");
inline const QLatin1String kJsonModule("pkcs11_module");
inline const QLatin1String kJsonTokenLabel("token_label");
inline const QLatin1String kJsonKeys("keys");
inline const QLatin1String kJsonCertificates("certificates");
inline const QLatin1String kJsonOperatorKey("operator_key");
inline const QLatin1String kJsonCreated("created");
inline const QLatin1String kJsonIssued("issued");

}  // namespace otafleet::crypto::layout
