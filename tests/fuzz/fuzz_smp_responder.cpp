// Fuzz target: the device side of SMP (smp::respond and the handlers behind it), which a station,
// a console or anything else on the serial line or UDP socket feeds. The backend is the
// simulator's real device on files in a temp dir; requests may upload, mark, erase and reset.
// Every input must get an answer that decodes as an SMP response, or silence.
#include "mcusim/SimDevice.h"
#include "smp/SmpPacket.h"

#include <QByteArrayView>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace {

// An ECDSA P-256 public key: images signed by anything else are refused, as they must be.
constexpr char kKey[] = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIFL4B4+4x4nHrUUK0YQne5BRYxa3
ZuxwC8IJaGHeXNkItI3/rR5zjQLjDC4cEQH+1ELylb0C30XfBWWFALS64Q==
-----END PUBLIC KEY-----
)";

otafleet::mcusim::SimDevice& device() {
    static QTemporaryDir dir;
    static std::optional<otafleet::mcusim::SimDevice> sim;
    if (!sim) {
        otafleet::mcusim::SimOptions options;
        options.dir = dir.path();
        options.publicKeyPem = QByteArray(kKey);
        options.slotSize = 64 * 1024;
        auto opened = otafleet::mcusim::SimDevice::open(options);
        if (!opened) {
            std::abort();
        }
        sim.emplace(std::move(*opened));
    }
    return *sim;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace smp = otafleet::smp;
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    auto& sim = device();
    const smp::DeviceReply reply = sim.handle(input);
    if (!reply.packet.isEmpty()) {
        const auto answer = smp::decodePacket(reply.packet);
        if (!answer || !smp::isResponse(answer->header.op)) {
            __builtin_trap();  // a device must answer with a well-formed response
        }
        const auto request = smp::decodeHeader(input);
        if (!request || answer->header.sequence != request->sequence ||
            answer->header.group != request->group) {
            __builtin_trap();  // answered something that was not the request
        }
    }
    if (reply.resetAfter) {
        sim.reset();
    }
    return 0;
}
