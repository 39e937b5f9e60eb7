// Fuzz target: what a factory station takes from the line (otafleetctl pki station): a
// serialized EnrollRequest, its bounded fields and the CSR inside (proof of possession, subject
// = device id, key type). Must refuse anything malformed without crashing or reading past it.
#include "enroll/EnrollRequestCheck.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    auto fields = otafleet::enroll::parseEnrollRequest(input);
    if (!fields) {
        return 0;
    }
    if (auto checked = otafleet::enroll::checkEnrollRequest(*fields)) {
        // An accepted request names a device and carries a key the station can compare.
        if (checked->deviceId.isEmpty() || checked->publicKeyPem.isEmpty()) {
            __builtin_trap();
        }
    }
    (void)otafleet::enroll::tokenMatches(fields->token, fields->deviceId);
    return 0;
}
