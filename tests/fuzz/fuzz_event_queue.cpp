// libFuzzer target: the agent's telemetry segment parser and queue loader must
// stay bounded and never crash on any bytes found on disk, keep exactly the
// intact prefix (re-framing what it accepted gives those bytes back), and leave
// a queue that reads back what the parser accepted.
#include "agent/EventQueue.h"

#include "otafleet/agent/v1/agent.pb.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QTemporaryDir>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

using otafleet::agent::EventQueue;

namespace {

// The queue under test lives in one directory for the whole run, on tmpfs where
// there is one: every input is written, opened and appended to (with
// fdatasync), and a disk would make the file system, not the parser, the cost
// of each input.
std::unique_ptr<QTemporaryDir> queueRoot;

// A segment is never larger than the biggest queue the agent keeps in its
// minimum configuration plus one record; longer inputs only repeat what shorter
// ones reach.
constexpr size_t kMaxInput =
    EventQueue::kMinBytes + EventQueue::kHeaderSize + EventQueue::kMaxPayload;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Cutting a torn tail logs a warning; on every input that would only slow the
    // fuzzer down.
    QLoggingCategory::setFilterRules(QStringLiteral("otafleet.agent.warning=false"));
    const QString shm = QStringLiteral("/dev/shm");
    queueRoot = QFileInfo(shm).isWritable()
                    ? std::make_unique<QTemporaryDir>(
                          shm + QStringLiteral("/otafleet-fuzz-event-queue-XXXXXX"))
                    : std::make_unique<QTemporaryDir>();
    if (!queueRoot->isValid())
        std::abort();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > kMaxInput)
        return 0;
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

    // The same bytes as a segment file of a queue that is opened, read, appended
    // to and acked.
    const QString dir = queueRoot->filePath(QStringLiteral("q"));
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
    // A file within the cap is kept whole (a bigger one may be trimmed to make
    // room).
    if (!batch || (quint64(scan.validBytes) + 1024 <= (*queue)->maxBytes() &&
                   batch->records.size() != scan.records.size())) {
        std::abort();
    }
    if (auto seq = (*queue)->append("x"); seq)
        (void)(*queue)->ack(*seq);
    return 0;
}
