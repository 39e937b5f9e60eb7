// Fuzz target: the MCUboot image parser (header, protected and unprotected TLV areas) and the
// verification path behind it. `mcuboot verify` reads images from anywhere, so every length and
// offset in them is hostile. The seeds are signed with the key below, so mutations also reach
// the hash, key hash and signature checks.

#include "bundle/McubootImage.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

namespace {

// Public half of the throwaway key that signed tests/fuzz/corpus/mcuboot_tlv/signed-*.bin.
constexpr char kSeedPublicKey[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwSqV+Hs6brhopInNeCv3tBqMgzuF\n"
    "apftliX2l2q7RhNBN0sTom5D0WgvwNzCHT0+TAWqMqvXYmYWg67xdlswAQ==\n"
    "-----END PUBLIC KEY-----\n";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace mcuboot = otafleet::bundle::mcuboot;
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    const auto info = mcuboot::parseImage(input);
    if (info) {
        // Everything the parser accepts lies inside the input, in order.
        if (info->hashedSize < mcuboot::kHeaderSize || info->hashedSize > info->tlvEnd ||
            info->tlvEnd > input.size() || (!info->sha256.isNull() && info->sha256.size() != 32) ||
            (!info->keyHash.isNull() && info->keyHash.size() != 32) ||
            info->signature.size() > 72) {
            __builtin_trap();
        }
    } else if (info.error().code.isEmpty() || info.error().message.isEmpty()) {
        __builtin_trap();
    }
    const auto verified = mcuboot::verifyImage(input, QByteArrayView(kSeedPublicKey));
    if (verified.has_value() != info.has_value() && verified.has_value()) {
        __builtin_trap();  // verification accepted what the parser refused
    }
    return 0;
}
