#include "smp/SmpClient.h"

#include <QTimer>

namespace otafleet::smp {

SmpClient::SmpClient(SmpTransport& transport, QObject* parent)
    : QObject(parent), m_transport(transport) {
    connect(&m_transport, &SmpTransport::packetReceived, this, &SmpClient::onPacket);
    connect(&m_transport, &SmpTransport::linkError, this, &SmpClient::cancelAll);
}

SmpClient::~SmpClient() {
    for (auto& pending : m_pending) {
        delete pending.timer;
    }
}

void SmpClient::call(const Request& request, Callback done) {
    constexpr int kSequenceSpace = 256;
    if (m_pending.size() >= kSequenceSpace) {
        done(fail(QStringLiteral("smp.busy"),
                  QStringLiteral("256 SMP requests are already outstanding; wait for answers.")));
        return;
    }
    while (m_pending.contains(m_nextSequence)) {
        ++m_nextSequence;
    }
    const quint8 sequence = m_nextSequence++;
    auto packet = encodeRequest(request, Version::V2, sequence);
    if (!packet) {
        done(fail(packet.error()));
        return;
    }
    Pending pending;
    pending.group = request.group;
    pending.command = request.command;
    pending.packet = *packet;
    pending.done = std::move(done);
    pending.retriesLeft = m_retries;
    pending.timer = new QTimer(this);
    pending.timer->setSingleShot(true);
    connect(pending.timer, &QTimer::timeout, this, [this, sequence] { onTimeout(sequence); });
    // On a slow line this request waits behind the ones already on their way.
    const int wire = m_transport.wireMilliseconds(packet->size()) * int(m_pending.size() + 1);
    pending.timer->start(m_timeoutMs + wire);
    m_pending.insert(sequence, std::move(pending));
    m_transport.send(*packet);
}

void SmpClient::onTimeout(quint8 sequence) {
    auto it = m_pending.find(sequence);
    if (it == m_pending.end()) {
        return;
    }
    if (it->retriesLeft-- > 0) {
        it->timer->start();
        m_transport.send(it->packet);  // same sequence: a late first answer still counts
        return;
    }
    finish(sequence, fail(QStringLiteral("smp.timeout"),
                          QStringLiteral("The device did not answer an SMP request (group %1, "
                                         "command %2) over %3; check the connection and that it "
                                         "runs MCUmgr.")
                              .arg(it->group)
                              .arg(it->command)
                              .arg(m_transport.description())));
}

void SmpClient::onPacket(const QByteArray& bytes) {
    auto packet = decodePacket(bytes);
    if (!packet || !isResponse(packet->header.op)) {
        return;  // noise, or an answer to nothing we know: the request will time out
    }
    const auto it = m_pending.constFind(packet->header.sequence);
    if (it == m_pending.constEnd() || it->group != packet->header.group ||
        it->command != packet->header.command) {
        return;
    }
    finish(packet->header.sequence, std::move(packet->body));
}

void SmpClient::finish(quint8 sequence, Result<QCborMap> result) {
    auto node = m_pending.take(sequence);
    node.timer->deleteLater();
    node.done(std::move(result));
}

void SmpClient::cancelAll(const Error& error) {
    const QList<quint8> sequences = m_pending.keys();
    for (const quint8 sequence : sequences) {
        if (m_pending.contains(sequence)) {
            finish(sequence, fail(error));
        }
    }
}

}  // namespace otafleet::smp
