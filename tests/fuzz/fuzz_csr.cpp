// Fuzz target: PKCS#10 certificate signing requests from outside (`pki issue --csr`: factory
// stations, server administrators). Parsing, the self-signature check and the key policy must
// refuse anything malformed without crashing, leaking or reading past the input.
#include "crypto/CertificateRequest.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    if (auto request = otafleet::crypto::CertificateRequest::parse(input)) {
        if (!request->publicKey) {
            __builtin_trap();  // an accepted request always yields its key
        }
    }
    return 0;
}
