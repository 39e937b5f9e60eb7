// libFuzzer target: the agent's telemetry segment parser and queue loader must stay bounded and
// never crash on any bytes found on disk, keep exactly the intact prefix (re-framing what it
// accepted gives those bytes back), and leave a queue that reads back what the parser accepted.
#include "agent/EventQueue.h"

#include "otafleet/agent/v1/agent.pb.h"

#include <QDir>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using otafleet::agent::EventQueue;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Cutting a torn tail logs a warning; on every input that would only slow the fuzzer down.
    static const bool quiet = [] {
        QLoggingCategory::setFilterRules(QStringLiteral("otafleet.agent.warning=false"));
        return true;
    }();
    (void)quiet;
    const QByteArrayView bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const auto scan = EventQueue::parseSegment(bytes);
    QByteArray again;
    for (const auto& record : scan.records) {
        again += EventQueue::frame(record.seq, record.payload);
        otafleet::agent::v1::Event event;
        (void)event.ParseFromArray(record.payload.constData(), int(record.payload.size()));
    }
    if (again != bytes.first(scan.validBytes))
        std::abort();

    // The same bytes as a segment file of a queue that is opened, read, appended to and acked.
    static QTemporaryDir tmp;
    const QString dir = tmp.filePath(QStringLiteral("q"));
    QDir(dir).removeRecursively();
    QDir().mkpath(dir);
    QFile file(QDir(dir).filePath(QStringLiteral("events-0000000000000001.log")));
    if (!file.open(QIODevice::WriteOnly))
        return 0;
    file.write(bytes.data(), bytes.size());
    file.close();
    auto queue = EventQueue::open(dir, EventQueue::kMinBytes, {});
    if (!queue)
        return 0;
    auto batch = (*queue)->read(0, 1 << 20);
    // A file within the cap is kept whole (a bigger one may be trimmed to make room).
    if (!batch || (quint64(scan.validBytes) + 1024 <= (*queue)->maxBytes() &&
                   batch->records.size() != scan.records.size())) {
        std::abort();
    }
    if (auto seq = (*queue)->append("x"); seq)
        (void)(*queue)->ack(*seq);
    return 0;
}
