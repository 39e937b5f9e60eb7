// Benchmark helper: applies payload 0 of a delta bundle to BASE, writing OUT, through the agent's
// own PayloadWriter (the active slot mapped read-only as the zstd prefix, the target streamed
// into the slot and hash-checked), so bench_delta.sh measures the device's code path.
// Usage: bench_delta_apply DELTA.otab BASE OUT
#include "agent/PayloadWriter.h"
#include "agent/SlotStore.h"
#include "bundle/Bundle.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QStringList>

#include <cstdio>

int main(int argc, char* argv[]) {
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() != 4) {
        std::fprintf(stderr, "usage: bench_delta_apply DELTA.otab BASE OUT\n");
        return 2;
    }
    using namespace otafleet;
    auto reader = bundle::BundleReader::open(args.at(1));
    if (!reader) {
        std::fprintf(stderr, "%s\n", qPrintable(reader.error().toString()));
        return 1;
    }
    QFile staged(args.at(1));  // what a raw payload would be copied from
    if (!staged.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "%s\n", qPrintable(staged.errorString()));
        return 1;
    }
    const agent::SlotStore slots(args.at(2), args.at(3), QDir::tempPath());
    const auto ok = agent::PayloadWriter::write(slots, agent::SlotId::B, agent::SlotId::A, *reader,
                                                0, staged.handle(), {});
    if (!ok) {
        std::fprintf(stderr, "%s\n", qPrintable(ok.error().toString()));
        return 1;
    }
    return 0;
}
