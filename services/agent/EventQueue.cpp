#include "agent/EventQueue.h"

#include "agent/AgentConfig.h"
#include "agent/Logging.h"
#include "common/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QtEndian>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace otafleet::agent {
namespace {

// The state file: "acked N\ndropped N\n". Its share of the byte cap is reserved up front.
constexpr qint64 kStateMaxSize = 128;
constexpr quint64 kStateReserve = 2 * kStateMaxSize;  // the file and its temporary twin
constexpr int kSegmentsPerQueue = 8;
static_assert(AgentConfig::kMinTelemetryBytes == EventQueue::kMinBytes &&
              AgentConfig::kMaxTelemetryBytes == EventQueue::kMaxBytes);

constexpr std::array<quint32, 256> makeCrcTable() {
    std::array<quint32, 256> table{};
    for (quint32 i = 0; i < 256; ++i) {
        quint32 c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1U) != 0 ? 0xedb88320U ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr std::array<quint32, 256> kCrcTable = makeCrcTable();

QString segmentName(quint64 firstSeq) {
    return QStringLiteral("events-%1.log").arg(firstSeq, 16, 16, QLatin1Char('0'));
}

std::unexpected<Error> writeFailed(const QString& what, const QString& path) {
    return fail(QStringLiteral("telemetry.write-failed"),
                QStringLiteral("Could not %1 %2 (%3); telemetry events may be lost. Check the "
                               "agent's disk.")
                    .arg(what, path, QString::fromLocal8Bit(std::strerror(errno))));
}

// Appends `bytes` to `path` and makes them durable; on failure cuts the file back to `oldSize`,
// so a half-written record never precedes the next good one.
Status appendDurably(const QString& path, QByteArrayView bytes, quint64 oldSize) {
    const int fd = ::open(QFile::encodeName(path).constData(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return writeFailed(QStringLiteral("open"), path);
    const char* p = bytes.data();
    qsizetype left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, static_cast<size_t>(left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= n;
    }
    if (left > 0 || ::fdatasync(fd) != 0) {
        auto error = writeFailed(QStringLiteral("write"), path);
        if (::ftruncate(fd, static_cast<off_t>(oldSize)) != 0)
            qCWarning(lcAgent).noquote() << "could not cut back" << path;
        ::close(fd);
        return error;
    }
    ::close(fd);
    return {};
}

}  // namespace

quint32 EventQueue::crc32(QByteArrayView bytes, quint32 crc) {
    crc = ~crc;
    for (const char ch : bytes)
        crc = kCrcTable[(crc ^ static_cast<quint8>(ch)) & 0xffU] ^ (crc >> 8);
    return ~crc;
}

QByteArray EventQueue::frame(quint64 seq, QByteArrayView payload) {
    QByteArray out(kHeaderSize, Qt::Uninitialized);
    qToLittleEndian<quint32>(kMagic, out.data());
    qToLittleEndian<quint32>(static_cast<quint32>(payload.size()), out.data() + 4);
    qToLittleEndian<quint64>(seq, out.data() + 8);
    const quint32 crc = crc32(payload, crc32(QByteArrayView(out).sliced(4, 12)));
    qToLittleEndian<quint32>(crc, out.data() + 16);
    out.append(payload.data(), payload.size());
    return out;
}

SegmentScan EventQueue::parseSegment(QByteArrayView bytes, quint64 afterSeq) {
    SegmentScan scan;
    qsizetype pos = 0;
    quint64 previous = afterSeq;
    while (bytes.size() - pos >= kHeaderSize) {
        const char* h = bytes.data() + pos;
        if (qFromLittleEndian<quint32>(h) != kMagic)
            break;
        const quint32 length = qFromLittleEndian<quint32>(h + 4);
        const quint64 seq = qFromLittleEndian<quint64>(h + 8);
        if (length > quint32(kMaxPayload) || qsizetype(length) > bytes.size() - pos - kHeaderSize)
            break;
        if (seq <= previous)
            break;
        const QByteArrayView payload = bytes.sliced(pos + kHeaderSize, length);
        const quint32 crc = crc32(payload, crc32(bytes.sliced(pos + 4, 12)));
        if (crc != qFromLittleEndian<quint32>(h + 16))
            break;
        scan.records.append(QueuedRecord{seq, payload.toByteArray()});
        previous = seq;
        pos += kHeaderSize + length;
    }
    scan.validBytes = pos;
    return scan;
}

EventQueue::EventQueue(QString directory, quint64 maxBytes, DropMarker marker)
    : m_dir(std::move(directory)),
      m_maxBytes(std::clamp(maxBytes, kMinBytes, kMaxBytes)),
      m_marker(std::move(marker)) {}

Result<std::unique_ptr<EventQueue>> EventQueue::open(const QString& directory, quint64 maxBytes,
                                                     DropMarker marker) {
    std::unique_ptr<EventQueue> queue(new EventQueue(directory, maxBytes, std::move(marker)));
    if (!QDir().mkpath(directory)) {
        return fail(QStringLiteral("telemetry.unavailable"),
                    QStringLiteral("Could not create the telemetry directory %1; check its "
                                   "permissions and free space.")
                        .arg(directory));
    }
    if (auto ok = queue->load(); !ok)
        return fail(ok.error());
    return queue;
}

quint64 EventQueue::segmentCap() const {
    return std::max<quint64>((m_maxBytes - kStateReserve) / kSegmentsPerQueue,
                             kHeaderSize + kMaxPayload);
}

quint64 EventQueue::bytesOnDisk() const {
    quint64 total = 0;
    for (const Segment& s : m_segments)
        total += s.bytes;
    return total;
}

quint64 EventQueue::unacked(const Segment& s) const {
    if (s.lastSeq <= m_acked)
        return 0;
    if (s.firstSeq > m_acked)
        return s.count;
    // Sequence numbers inside a segment are consecutive (one writer, one run).
    return std::min(s.count, s.lastSeq - m_acked);
}

Status EventQueue::load() {
    const QDir dir(m_dir);
    if (auto state = readFileBounded(dir.filePath(QStringLiteral("state")), kStateMaxSize)) {
        for (const QByteArray& line : state->split('\n')) {
            const QList<QByteArray> kv = line.simplified().split(' ');
            if (kv.size() != 2)
                continue;
            if (kv[0] == "acked")
                m_acked = kv[1].toULongLong();
            else if (kv[0] == "dropped")
                m_dropped = kv[1].toULongLong();
        }
    }
    // Names sort by first sequence number (fixed-width hex).
    const QStringList names =
        dir.entryList({QStringLiteral("events-*.log")}, QDir::Files, QDir::Name);
    quint64 previous = 0;
    for (const QString& name : names) {
        const QString path = dir.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::ReadWrite)) {
            return fail(QStringLiteral("telemetry.unavailable"),
                        QStringLiteral("Could not open the telemetry segment %1 (%2); check the "
                                       "permissions of the agent's data directory.")
                            .arg(path, file.errorString()));
        }
        // A segment never grows past segmentCap(); anything beyond the cap is not ours to trust.
        const QByteArray bytes = file.read(qint64(m_maxBytes));
        const SegmentScan scan = parseSegment(bytes, previous);
        if (scan.validBytes < file.size()) {
            qCWarning(lcAgent).noquote()
                << QStringLiteral("telemetry: cut %1 torn or corrupt bytes off %2")
                       .arg(file.size() - scan.validBytes)
                       .arg(name);
            if (!file.resize(scan.validBytes) || ::fdatasync(file.handle()) != 0)
                return writeFailed(QStringLiteral("truncate"), path);
        }
        file.close();
        if (scan.records.isEmpty()) {
            QFile::remove(path);
            continue;
        }
        m_segments.append(Segment{path, scan.records.first().seq, scan.records.last().seq,
                                  quint64(scan.records.size()), quint64(scan.validBytes)});
        previous = scan.records.last().seq;
    }
    m_nextSeq = std::max(previous, m_acked) + 1;
    removeAckedSegments();
    // A smaller max_bytes than last time: trim now, not only at the next append.
    if (const quint64 lost = makeRoom(0); lost > 0) {
        m_dropped += lost;
        if (auto ok = writeState(); !ok)
            return ok;
    }
    return {};
}

Status EventQueue::writeState() {
    const QByteArray text = "acked " + QByteArray::number(m_acked) + "\ndropped " +
                            QByteArray::number(m_dropped) + '\n';
    return writeFileAtomically(QDir(m_dir).filePath(QStringLiteral("state")), text, 0600);
}

void EventQueue::removeAckedSegments() {
    bool removed = false;
    while (!m_segments.isEmpty() && m_segments.first().lastSeq <= m_acked) {
        QFile::remove(m_segments.first().path);
        m_segments.removeFirst();
        removed = true;
    }
    if (removed)
        (void)syncDirectory(m_dir);
}

quint64 EventQueue::makeRoom(quint64 needed) {
    const quint64 budget = m_maxBytes - kStateReserve;
    quint64 total = bytesOnDisk();
    quint64 lost = 0;
    while (!m_segments.isEmpty() && total + needed > budget) {
        const Segment oldest = m_segments.takeFirst();
        QFile::remove(oldest.path);
        total -= oldest.bytes;
        lost += unacked(oldest);
    }
    if (lost > 0) {
        qCWarning(lcAgent).noquote()
            << QStringLiteral("telemetry: queue full, discarded %1 unacknowledged event(s)")
                   .arg(lost);
        (void)syncDirectory(m_dir);
    }
    return lost;
}

Result<quint64> EventQueue::appendLocked(QByteArrayView payload) {
    const QByteArray record = frame(m_nextSeq, payload);
    const bool fresh =
        m_segments.isEmpty() || m_segments.last().bytes + quint64(record.size()) > segmentCap();
    const QString path =
        fresh ? QDir(m_dir).filePath(segmentName(m_nextSeq)) : m_segments.last().path;
    const quint64 oldSize = fresh ? 0 : m_segments.last().bytes;
    if (auto ok = appendDurably(path, record, oldSize); !ok) {
        if (fresh)
            QFile::remove(path);
        return fail(ok.error());
    }
    if (fresh) {
        // The new file's directory entry must survive a power cut as well as its bytes.
        (void)syncDirectory(m_dir);
        m_segments.append(Segment{path, m_nextSeq, m_nextSeq, 0, 0});
    }
    Segment& segment = m_segments.last();
    segment.lastSeq = m_nextSeq;
    segment.count += 1;
    segment.bytes += quint64(record.size());
    return m_nextSeq++;
}

Result<quint64> EventQueue::append(QByteArrayView payload) {
    if (payload.size() > kMaxPayload) {
        return fail(QStringLiteral("telemetry.event-too-large"),
                    QStringLiteral("A telemetry event holds at most %1 bytes; this one has %2.")
                        .arg(kMaxPayload)
                        .arg(payload.size()));
    }
    std::lock_guard lock(m_mutex);
    const quint64 needed = quint64(kHeaderSize + payload.size()) +
                           (m_marker ? quint64(kHeaderSize + kMaxMarkerPayload) : 0);
    if (const quint64 lost = makeRoom(needed); lost > 0) {
        m_dropped += lost;
        if (auto ok = writeState(); !ok)
            return fail(ok.error());
        const QByteArray marker = m_marker ? m_marker(lost, m_dropped) : QByteArray();
        if (!marker.isEmpty() && marker.size() <= kMaxMarkerPayload) {
            if (auto ok = appendLocked(marker); !ok)
                return ok;
        }
    }
    return appendLocked(payload);
}

Result<QueueBatch> EventQueue::read(quint64 afterSeq, int max) const {
    std::lock_guard lock(m_mutex);
    QueueBatch batch;
    batch.lastSeq = m_nextSeq - 1;
    batch.ackedSeq = m_acked;
    batch.droppedTotal = m_dropped;
    const quint64 from = std::max(afterSeq, m_acked);
    qsizetype payloadBytes = 0;
    for (const Segment& segment : m_segments) {
        if (segment.lastSeq <= from)
            continue;
        auto bytes = readFileBounded(segment.path, qint64(segment.bytes));
        if (!bytes) {
            return fail(QStringLiteral("telemetry.unavailable"),
                        QStringLiteral("Could not read the telemetry segment %1 (%2).")
                            .arg(segment.path, bytes.error().message));
        }
        const SegmentScan scan = parseSegment(*bytes);
        for (const QueuedRecord& record : scan.records) {
            if (record.seq <= from)
                continue;
            if (batch.records.size() >= max ||
                (!batch.records.isEmpty() &&
                 payloadBytes + record.payload.size() > kMaxBatchBytes)) {
                batch.more = true;
                return batch;
            }
            payloadBytes += record.payload.size();
            batch.records.append(record);
        }
    }
    return batch;
}

Status EventQueue::ack(quint64 upToSeq) {
    std::lock_guard lock(m_mutex);
    if (upToSeq >= m_nextSeq) {
        return fail(QStringLiteral("telemetry.ack-ahead"),
                    QStringLiteral("The agent has assigned event numbers up to %1 only, so %2 "
                                   "cannot be acknowledged; acknowledge the last event you "
                                   "received.")
                        .arg(m_nextSeq - 1)
                        .arg(upToSeq));
    }
    if (upToSeq <= m_acked)
        return {};
    m_acked = upToSeq;
    // The state first: a crash before the files go leaves them to be removed at the next start.
    if (auto ok = writeState(); !ok)
        return ok;
    removeAckedSegments();
    return {};
}

quint64 EventQueue::lastSeq() const {
    std::lock_guard lock(m_mutex);
    return m_nextSeq - 1;
}

quint64 EventQueue::ackedSeq() const {
    std::lock_guard lock(m_mutex);
    return m_acked;
}

quint64 EventQueue::droppedTotal() const {
    std::lock_guard lock(m_mutex);
    return m_dropped;
}

quint64 EventQueue::pending() const {
    std::lock_guard lock(m_mutex);
    quint64 n = 0;
    for (const Segment& s : m_segments)
        n += unacked(s);
    return n;
}

}  // namespace otafleet::agent
