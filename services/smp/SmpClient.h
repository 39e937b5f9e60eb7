// An asynchronous SMP client over any SmpTransport: numbers requests, matches responses by
// sequence number, group and command, retries a request that got no answer, and gives each
// caller its response body or an Error. Several requests may be outstanding at once; how many a
// device can take is the caller's business (see ImageUploader).
#pragma once

#include "common/Error.h"
#include "smp/SmpCommands.h"
#include "smp/SmpTransport.h"

#include <QCborMap>
#include <QHash>
#include <QObject>

#include <functional>

class QTimer;

namespace otafleet::smp {

class SmpClient : public QObject {
    Q_OBJECT

public:
    using Callback = std::function<void(Result<QCborMap>)>;

    explicit SmpClient(SmpTransport& transport, QObject* parent = nullptr);
    ~SmpClient() override;

    // Sends `request`; `done` runs exactly once with the response body (device errors are left
    // in it for the command's parser) or with smp.timeout / smp.link-lost / smp.busy.
    void call(const Request& request, Callback done);
    // Fails every outstanding request with `error`.
    void cancelAll(const Error& error);

    void setTimeout(int milliseconds) { m_timeoutMs = milliseconds; }
    void setRetries(int retries) { m_retries = retries; }
    [[nodiscard]] int inFlight() const { return int(m_pending.size()); }
    [[nodiscard]] SmpTransport& transport() { return m_transport; }

private:
    struct Pending {
        quint16 group = 0;
        quint8 command = 0;
        QByteArray packet;
        Callback done;
        QTimer* timer = nullptr;
        int retriesLeft = 0;
    };
    void onPacket(const QByteArray& bytes);
    void onTimeout(quint8 sequence);
    void finish(quint8 sequence, Result<QCborMap> result);

    SmpTransport& m_transport;
    QHash<quint8, Pending> m_pending;
    quint8 m_nextSequence = 0;
    int m_timeoutMs = 3000;
    int m_retries = 2;
};

}  // namespace otafleet::smp
