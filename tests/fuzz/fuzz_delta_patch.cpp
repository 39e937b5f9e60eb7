// Fuzz target: a zstd-patch payload decoded against a base image (the agent's active slot). The
// patch bytes stream in before their hash is known, so they are attacker-controlled here; the
// output must stay within the declared target size and the base must never be written.

#include "bundle/PayloadDecoder.h"

#include <QByteArray>
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

// The seeds in corpus/delta_patch were made with `zstd --patch-from` against these bytes.
QByteArray baseImage() {
    QByteArray base(64 * 1024, '\0');
    for (qsizetype i = 0; i < base.size(); ++i) {
        base[i] = static_cast<char>((i * 131 + (i >> 8)) & 0xff);
    }
    return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace otafleet::bundle;
    static const QByteArray base = baseImage();
    static const QByteArray pristine = base;
    PayloadEntry entry;
    entry.name = QStringLiteral("fuzz");
    entry.encoding = Encoding::ZstdPatch;
    entry.size = size;
    entry.targetSize = 256 * 1024;
    entry.targetSha256 = QByteArray(32, '\0');
    entry.baseSha256 = QByteArray(32, '\0');
    CountingSink sink;
    auto decoder = PayloadDecoder::create(entry, sink, base);
    if (!decoder) {
        __builtin_trap();
    }
    const QByteArrayView input(data, static_cast<qsizetype>(size));
    const qsizetype half = input.size() / 2;
    auto ok = (*decoder)->write(input.first(half));
    if (ok) {
        ok = (*decoder)->write(input.sliced(half));
    }
    if (ok) {
        ok = (*decoder)->finish();
    }
    if (sink.total > entry.targetSize || base != pristine) {
        __builtin_trap();
    }
    return 0;
}
