#include "smp/SmpBle.h"

#include "smp/SmpPacket.h"

#include <utility>

namespace otafleet::smp {

int blePayloadSize(int mtu) {
    return qMin(qBound(kBleDefaultMtu, mtu, kBleMaxMtu) - kAttHeaderSize, kBleMaxAttributeValue);
}

QList<QByteArray> splitForBle(QByteArrayView packet, int mtu) {
    const qsizetype piece = blePayloadSize(mtu);
    QList<QByteArray> out;
    out.reserve((packet.size() + piece - 1) / piece);
    for (qsizetype at = 0; at < packet.size(); at += piece) {
        out.append(packet.sliced(at, qMin(piece, packet.size() - at)).toByteArray());
    }
    return out;
}

void BleReassembler::reset() {
    m_buffer.clear();
    m_expected = -1;
}

QList<Result<QByteArray>> BleReassembler::feed(QByteArrayView value, qint64 nowMs) {
    QList<Result<QByteArray>> out;
    if (value.isEmpty()) {
        return out;
    }
    if (inPacket() && nowMs - m_startedMs > kBleReassemblyTimeoutMs) {
        reset();
        out.append(fail(QStringLiteral("smp.ble-stale-packet"),
                        QStringLiteral("An SMP packet over Bluetooth LE stayed incomplete for %1 s "
                                       "and was dropped; the request it answered is retried.")
                            .arg(kBleReassemblyTimeoutMs / 1000)));
    }
    if (!inPacket()) {
        m_startedMs = nowMs;
    }
    // Never hold more than one packet's worth, whatever a piece claims to carry.
    if (m_buffer.size() + value.size() > kMaxBlePacket + kBleMaxAttributeValue) {
        reset();
        out.append(fail(QStringLiteral("smp.ble-overlong"),
                        QStringLiteral("The device sent more Bluetooth LE data than an SMP packet "
                                       "can hold; the data was dropped.")));
        return out;
    }
    m_buffer += value;
    if (m_expected < 0) {
        if (m_buffer.size() < kHeaderSize) {
            return out;  // a header cut by a tiny MTU: wait for the rest
        }
        const auto header = decodeHeader(QByteArrayView(m_buffer).first(kHeaderSize));
        const bool wantResponse = m_expect == Expect::Responses;
        if (!header || isResponse(header->op) != wantResponse) {
            reset();
            out.append(fail(QStringLiteral("smp.ble-bad-header"),
                            wantResponse
                                ? QStringLiteral("The device sent Bluetooth LE data that does "
                                                 "not start with an SMP response header; it was "
                                                 "dropped. Check that the device runs MCUmgr.")
                                : QStringLiteral("A Bluetooth LE write does not start with an "
                                                 "SMP request header; it was dropped.")));
            return out;
        }
        m_expected = kHeaderSize + qsizetype(header->length);
        if (m_expected > kMaxBlePacket) {
            const qsizetype claimed = m_expected;
            reset();
            out.append(fail(QStringLiteral("smp.ble-packet-too-large"),
                            QStringLiteral("An SMP packet over Bluetooth LE announces %1 bytes, "
                                           "more than the %2 this side takes; it was dropped.")
                                .arg(claimed)
                                .arg(kMaxBlePacket)));
            return out;
        }
    }
    if (m_buffer.size() > m_expected) {
        const qsizetype extra = m_buffer.size() - m_expected;
        reset();
        out.append(fail(QStringLiteral("smp.ble-overlong"),
                        QStringLiteral("A Bluetooth LE piece carried %1 bytes past the end of its "
                                       "SMP packet; the packet was dropped.")
                            .arg(extra)));
        return out;
    }
    if (m_buffer.size() == m_expected) {
        out.append(std::exchange(m_buffer, {}));
        m_expected = -1;
    }
    return out;
}

}  // namespace otafleet::smp
