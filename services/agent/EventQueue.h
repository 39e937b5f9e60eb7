// The agent's telemetry queue: an append-only, bounded, durable queue of opaque records in one
// directory (DATA/telemetry). Records live in segment files "events-<first seq, hex>.log"; each
// record is framed as
//     magic u32 | payload length u32 | seq u64 | CRC-32 u32 (over length, seq, payload) | payload
// (little endian) and is on disk (write + fdatasync) before append() returns, so a kill -9 can
// lose at most the record being written; its torn remains are found by the CRC and cut off when
// the queue opens again. The acknowledged sequence number and the count of discarded records
// live in DATA/telemetry/state, replaced atomically.
//
// The directory never holds more than `maxBytes`: when an append would pass it, the oldest
// segments go, and the number of unacknowledged records lost that way is written as a record of
// its own (made by the DropMarker callback) so the operator learns about the gap. Records leave
// the queue otherwise only when a client acknowledges them. Thread-safe.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <functional>
#include <memory>
#include <mutex>

namespace otafleet::agent {

struct QueuedRecord {
    quint64 seq = 0;
    QByteArray payload;
};

// What parseSegment found in the bytes of a segment file.
struct SegmentScan {
    QList<QueuedRecord> records;
    qsizetype validBytes = 0;  // length of the intact prefix; what follows is torn or corrupt
};

struct QueueBatch {
    QList<QueuedRecord> records;  // oldest first
    bool more = false;            // records beyond the batch's limits remain
    quint64 lastSeq = 0;
    quint64 ackedSeq = 0;
    quint64 droppedTotal = 0;
};

class EventQueue {
public:
    static constexpr qsizetype kHeaderSize = 20;
    static constexpr qsizetype kMaxPayload = 4096;
    static constexpr quint32 kMagic = 0x5645544fU;  // "OTEV" on disk
    static constexpr quint64 kMinBytes = 64ULL * 1024;
    static constexpr quint64 kMaxBytes = 64ULL * 1024 * 1024;
    // One read never returns more payload bytes than this (a gRPC message stays small).
    static constexpr qsizetype kMaxBatchBytes = 512 * 1024;
    // A drop marker must fit in this much payload.
    static constexpr qsizetype kMaxMarkerPayload = 128;

    // Makes the payload of the record announcing `count` discarded records (`total` since the
    // queue was created).
    using DropMarker = std::function<QByteArray(quint64 count, quint64 total)>;

    // Creates `directory` if needed, drops torn or corrupt tails, removes acknowledged segments
    // and trims to `maxBytes` (clamped to kMinBytes..kMaxBytes). Error telemetry.unavailable.
    [[nodiscard]] static Result<std::unique_ptr<EventQueue>> open(const QString& directory,
                                                                  quint64 maxBytes,
                                                                  DropMarker marker);

    // Durably appends one record and returns its sequence number. Errors
    // telemetry.event-too-large, telemetry.write-failed.
    [[nodiscard]] Result<quint64> append(QByteArrayView payload);
    // Unacknowledged records with a sequence number above `afterSeq`, at most `max` of them and
    // at most kMaxBatchBytes of payload (always at least one record when one is pending).
    [[nodiscard]] Result<QueueBatch> read(quint64 afterSeq, int max) const;
    // Forgets every record up to `upToSeq`. Errors telemetry.ack-ahead (a sequence number not
    // assigned yet), telemetry.write-failed.
    [[nodiscard]] Status ack(quint64 upToSeq);

    [[nodiscard]] quint64 lastSeq() const;
    [[nodiscard]] quint64 ackedSeq() const;
    [[nodiscard]] quint64 droppedTotal() const;
    [[nodiscard]] quint64 pending() const;
    [[nodiscard]] quint64 maxBytes() const { return m_maxBytes; }
    [[nodiscard]] QString directory() const { return m_dir; }

    // The bounded record parser used on every segment file: stops at the first record that is
    // torn, oversized, fails its CRC or does not increase the sequence beyond `afterSeq` and its
    // predecessor. Never reads past `bytes`.
    [[nodiscard]] static SegmentScan parseSegment(QByteArrayView bytes, quint64 afterSeq = 0);
    [[nodiscard]] static QByteArray frame(quint64 seq, QByteArrayView payload);
    [[nodiscard]] static quint32 crc32(QByteArrayView bytes, quint32 crc = 0);

private:
    struct Segment {
        QString path;
        quint64 firstSeq = 0;
        quint64 lastSeq = 0;
        quint64 count = 0;
        quint64 bytes = 0;
    };
    EventQueue(QString directory, quint64 maxBytes, DropMarker marker);
    [[nodiscard]] Status load();
    [[nodiscard]] Status writeState();
    [[nodiscard]] Result<quint64> appendLocked(QByteArrayView payload);
    [[nodiscard]] quint64 makeRoom(quint64 needed);
    void removeAckedSegments();
    [[nodiscard]] quint64 unacked(const Segment& segment) const;
    [[nodiscard]] quint64 segmentCap() const;
    [[nodiscard]] quint64 bytesOnDisk() const;

    QString m_dir;
    quint64 m_maxBytes;
    DropMarker m_marker;
    mutable std::mutex m_mutex;
    QList<Segment> m_segments;  // oldest first; the last one takes appends
    quint64 m_nextSeq = 1;
    quint64 m_acked = 0;
    quint64 m_dropped = 0;
};

}  // namespace otafleet::agent
