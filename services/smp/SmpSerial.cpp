#include "smp/SmpSerial.h"

#include <QtEndian>

namespace otafleet::smp {
namespace {

constexpr char kNewline = '\n';
constexpr char kCarriageReturn = '\r';
constexpr int kLengthSize = 2;
constexpr int kCrcSize = 2;
constexpr int kMarkerSize = 2;
constexpr int kBase64Group = 4;
constexpr int kRawGroup = 3;

// Raw bytes that fit one line: base64 characters between marker and newline, in whole groups.
int rawBytesPerLine(int lineLimit) {
    const int chars = (lineLimit - kMarkerSize - 1) / kBase64Group * kBase64Group;
    return chars / kBase64Group * kRawGroup;
}

Result<QByteArray> frameError(const char* code, const QString& message) {
    return fail(QString::fromLatin1(code), message);
}

}  // namespace

quint16 crc16Xmodem(QByteArrayView data, quint16 crc) {
    constexpr quint16 kPolynomial = 0x1021;
    for (const char byte : data) {
        crc ^= quint16(quint16(quint8(byte)) << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000) != 0 ? quint16((crc << 1) ^ kPolynomial) : quint16(crc << 1);
        }
    }
    return crc;
}

QByteArray encodeSerialFrame(QByteArrayView packet, int lineLimit) {
    lineLimit = qMax(lineLimit, kSerialMinLineLimit);
    QByteArray raw(kLengthSize, '\0');
    qToBigEndian<quint16>(quint16(packet.size() + kCrcSize), raw.data());
    raw += packet;
    QByteArray crc(kCrcSize, '\0');
    qToBigEndian<quint16>(crc16Xmodem(packet), crc.data());
    raw += crc;

    const int perLine = rawBytesPerLine(lineLimit);
    QByteArray out;
    out.reserve(raw.size() * 4 / 3 + (raw.size() / perLine + 1) * 3 + 4);
    for (qsizetype at = 0; at < raw.size(); at += perLine) {
        out.append(at == 0 ? kStartMarker : kContinuationMarker, kMarkerSize);
        out += raw.mid(at, perLine).toBase64();
        out += kNewline;
    }
    return out;
}

qint64 serialFrameSize(qint64 packetSize, int lineLimit) {
    const qint64 raw = kLengthSize + packetSize + kCrcSize;
    const qint64 perLine = rawBytesPerLine(qMax(lineLimit, kSerialMinLineLimit));
    const qint64 lines = (raw + perLine - 1) / perLine;
    return (raw + kRawGroup - 1) / kRawGroup * kBase64Group + lines * (kMarkerSize + 1);
}

SerialDeframer::SerialDeframer(int lineLimit) : m_lineLimit(qMax(lineLimit, kSerialMinLineLimit)) {}

void SerialDeframer::dropPacket() {
    m_decoded.clear();
    m_expected = -1;
}

void SerialDeframer::beginLine(bool start, QList<Result<QByteArray>>& out) {
    if (start && inPacket()) {
        dropPacket();
        out.append(frameError("smp.incomplete-packet",
                              QStringLiteral("A new SMP frame started before the previous packet "
                                             "was complete; the partial packet was dropped.")));
    }
    if (!start && !inPacket()) {
        out.append(frameError("smp.unexpected-continuation",
                              QStringLiteral("An SMP continuation line arrived with no packet "
                                             "started; it was skipped.")));
        m_state = State::SkipLine;
        return;
    }
    m_lineIsStart = start;
    m_line.clear();
    m_state = State::InLine;
}

void SerialDeframer::endLine(QList<Result<QByteArray>>& out) {
    m_state = State::Idle;
    auto decoded = QByteArray::fromBase64Encoding(m_line, QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || m_line.isEmpty() || m_line.size() % kBase64Group != 0) {
        dropPacket();
        out.append(frameError("smp.bad-base64",
                              QStringLiteral("An SMP line is not valid base64; the packet was "
                                             "dropped. Check the baud rate and that nothing else "
                                             "writes to the port.")));
        return;
    }
    if (m_lineIsStart) {
        m_decoded = *decoded;
        if (m_decoded.size() < kLengthSize) {
            dropPacket();
            out.append(frameError("smp.length-mismatch",
                                  QStringLiteral("An SMP start line is too short to hold the "
                                                 "packet length.")));
            return;
        }
        const quint16 length = qFromBigEndian<quint16>(m_decoded.constData());
        if (length < kCrcSize) {
            dropPacket();
            out.append(frameError("smp.length-mismatch",
                                  QStringLiteral("An SMP frame announces %1 bytes, less than its "
                                                 "own CRC.")
                                      .arg(length)));
            return;
        }
        if (length - kCrcSize > kMaxSerialPacket) {
            dropPacket();
            out.append(frameError("smp.packet-too-large",
                                  QStringLiteral("An SMP frame announces a %1-byte packet, more "
                                                 "than the %2 bytes accepted over serial.")
                                      .arg(length - kCrcSize)
                                      .arg(kMaxSerialPacket)));
            return;
        }
        m_expected = kLengthSize + length;
    } else {
        m_decoded += *decoded;
    }
    if (m_decoded.size() < m_expected) {
        return;
    }
    if (m_decoded.size() > m_expected) {
        const qsizetype extra = m_decoded.size() - m_expected;
        dropPacket();
        out.append(frameError("smp.length-mismatch",
                              QStringLiteral("An SMP frame carries %1 bytes more than its length "
                                             "field announces; the packet was dropped.")
                                  .arg(extra)));
        return;
    }
    const QByteArrayView packet =
        QByteArrayView(m_decoded).sliced(kLengthSize, m_expected - kLengthSize - kCrcSize);
    const quint16 received = qFromBigEndian<quint16>(m_decoded.constData() + m_expected - kCrcSize);
    if (crc16Xmodem(packet) != received) {
        dropPacket();
        out.append(frameError("smp.crc-mismatch",
                              QStringLiteral("An SMP packet failed its CRC check and was dropped; "
                                             "the serial line corrupted it.")));
        return;
    }
    out.append(packet.toByteArray());
    dropPacket();
}

QList<Result<QByteArray>> SerialDeframer::feed(QByteArrayView bytes) {
    QList<Result<QByteArray>> out;
    for (const char byte : bytes) {
        // A marker's first byte never occurs in base64 text or in a newline: it always means a
        // marker may follow, whatever state the line was in.
        if (byte == kStartMarker[0] || byte == kContinuationMarker[0]) {
            if (m_state == State::InLine) {
                m_state = State::SkipLine;  // a line cut short by a marker is not a line
                dropPacket();
                out.append(frameError("smp.incomplete-packet",
                                      QStringLiteral("An SMP line was cut off by another frame; "
                                                     "the partial packet was dropped.")));
            }
            m_state = byte == kStartMarker[0] ? State::SawStart0 : State::SawCont0;
            continue;
        }
        switch (m_state) {
            case State::SawStart0:
            case State::SawCont0: {
                const bool start = m_state == State::SawStart0;
                const char expected = start ? kStartMarker[1] : kContinuationMarker[1];
                if (byte == expected) {
                    beginLine(start, out);
                } else {
                    m_state = byte == kNewline ? State::Idle : State::SkipLine;
                }
                break;
            }
            case State::InLine:
                if (byte == kNewline) {
                    endLine(out);
                } else if (byte != kCarriageReturn) {
                    m_line += byte;
                    if (m_line.size() + kMarkerSize + 1 > m_lineLimit) {
                        dropPacket();
                        m_state = State::SkipLine;
                        out.append(frameError(
                            "smp.frame-too-long",
                            QStringLiteral(
                                "An SMP line is longer than %1 bytes; the packet was "
                                "dropped. Check the line limit the device is built with.")
                                .arg(m_lineLimit)));
                    }
                }
                break;
            case State::SkipLine:
                if (byte == kNewline) {
                    m_state = State::Idle;
                }
                break;
            case State::Idle:
                break;  // console output between frames
        }
    }
    return out;
}

}  // namespace otafleet::smp
