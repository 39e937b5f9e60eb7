// SMP over a serial line or console (mcumgr transport/smp-console.md, Zephyr's "SMP Transport
// Specification", UART/serial and console): a packet travels as
//   base64( length:16 BE | packet | CRC16-XMODEM(packet):16 BE )
// cut into newline-terminated lines of at most 127 bytes, the first starting with 0x06 0x09 and
// every further one with 0x04 0x14. `length` counts the packet and the CRC.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QList>

namespace otafleet::smp {

inline constexpr int kSerialLineLimit =
    127;  // MCUMGR_SERIAL_MAX_FRAME, marker and newline included
inline constexpr int kSerialMinLineLimit = 8;
inline constexpr char kStartMarker[2] = {0x06, 0x09};
inline constexpr char kContinuationMarker[2] = {0x04, 0x14};
// The de-framer never holds more than this many packet bytes (a length field can claim 65535).
inline constexpr qsizetype kMaxSerialPacket = 16 * 1024;

// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection, no final xor ("CRC16-CCITT"
// in the MCUmgr documents). check("123456789") == 0x31c3.
[[nodiscard]] quint16 crc16Xmodem(QByteArrayView data, quint16 crc = 0);

// The lines carrying `packet`, each at most `lineLimit` bytes. Every line's base64 text is a
// multiple of four characters, so a receiver can decode line by line as Zephyr does.
[[nodiscard]] QByteArray encodeSerialFrame(QByteArrayView packet, int lineLimit = kSerialLineLimit);

// Bytes on the wire per packet of `packetSize` bytes (for line-rate estimates).
[[nodiscard]] qint64 serialFrameSize(qint64 packetSize, int lineLimit = kSerialLineLimit);

// Turns a byte stream into packets. Console text between frames (anything outside a line that
// starts with a marker) is skipped; a start marker anywhere begins a new packet, dropping an
// unfinished one with an error. Each problem is reported once, with its own code:
//   smp.frame-too-long          a line longer than the limit
//   smp.bad-base64              a line that is not valid base64 in groups of four
//   smp.unexpected-continuation a continuation line with no packet started
//   smp.packet-too-large        a length field above kMaxSerialPacket
//   smp.length-mismatch         more data than the length field, or a length below the CRC
//   smp.incomplete-packet       a new packet started before the previous one was complete
//   smp.crc-mismatch            the CRC does not match the packet
class SerialDeframer {
public:
    explicit SerialDeframer(int lineLimit = kSerialLineLimit);

    // Feeds bytes; returns every packet (or error) completed by them, in order.
    [[nodiscard]] QList<Result<QByteArray>> feed(QByteArrayView bytes);
    // True while a packet is partly received.
    [[nodiscard]] bool inPacket() const { return m_expected >= 0; }

private:
    enum class State { Idle, SawStart0, SawCont0, InLine, SkipLine };
    void beginLine(bool start, QList<Result<QByteArray>>& out);
    void endLine(QList<Result<QByteArray>>& out);
    void dropPacket();

    int m_lineLimit;
    State m_state = State::Idle;
    bool m_lineIsStart = false;
    QByteArray m_line;          // base64 text of the current line
    QByteArray m_decoded;       // length + packet + CRC decoded so far
    qsizetype m_expected = -1;  // total decoded bytes expected, -1 outside a packet
};

}  // namespace otafleet::smp
