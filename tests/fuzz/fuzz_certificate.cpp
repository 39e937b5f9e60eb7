// Fuzz target: X.509 certificates from outside (PEM or DER: peers' TLS certificates, trust
// files, signer certificates shown to people). Parsing and every accessor must cope with
// anything.
#include "crypto/Certificate.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

namespace {

void touch(const otafleet::crypto::Certificate& cert) {
    static_cast<void>(cert.subject());
    static_cast<void>(cert.commonName());
    static_cast<void>(cert.issuer());
    static_cast<void>(cert.subjectKeyId());
    static_cast<void>(cert.serialHex());
    static_cast<void>(cert.notBefore());
    static_cast<void>(cert.notAfter());
    static_cast<void>(cert.sha256Fingerprint());
    if (cert.toDer().isEmpty() || cert.toPem().isEmpty()) {
        __builtin_trap();  // a parsed certificate always serialises again
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using otafleet::crypto::Certificate;
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    if (auto der = Certificate::fromDer(input)) {
        touch(*der);
    }
    if (auto pem = Certificate::fromPem(input)) {
        touch(*pem);
    }
    return 0;
}
