// Fuzz target: PayloadDecoder decompresses payload bytes while they stream in, before the
// payload's hash is known, so it sees attacker-controlled zstd frames. Output must stay within
// the declared target size whatever the frame claims.

#include "bundle/PayloadDecoder.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

namespace {

class CountingSink final : public otafleet::bundle::PayloadSink {
public:
    otafleet::Status write(QByteArrayView data) override {
        total += static_cast<quint64>(data.size());
        return {};
    }
    quint64 total = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace otafleet::bundle;
    PayloadEntry entry;
    entry.name = QStringLiteral("fuzz");
    entry.encoding = Encoding::Zstd;
    entry.size = size;
    entry.targetSize = 256 * 1024;
    entry.targetSha256 = QByteArray(32, '\0');
    CountingSink sink;
    auto decoder = PayloadDecoder::create(entry, sink);
    if (!decoder) {
        __builtin_trap();
    }
    // Two writes, as blocks arrive from the network or the file.
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    const qsizetype half = input.size() / 2;
    auto ok = (*decoder)->write(input.first(half));
    if (ok) {
        ok = (*decoder)->write(input.sliced(half));
    }
    if (ok) {
        ok = (*decoder)->finish();
    }
    if (sink.total > entry.targetSize) {
        __builtin_trap();
    }
    return 0;
}
