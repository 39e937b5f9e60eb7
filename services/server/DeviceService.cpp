#include "server/DeviceService.h"

#include "server/ConsoleService.h"
#include "server/FleetTelemetry.h"
#include "server/RequestCheck.h"
#include "server/ServerLogging.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <grpc/grpc_security_constants.h>
#include <grpcpp/alarm.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>

namespace otafleet::server {
namespace {

using store::FleetStore;

constexpr qint64 kDownloadChunk = 1024 * 1024;

bool issuedBy(X509* cert, X509* ca) {
    if (X509_check_issued(ca, cert) != X509_V_OK)
        return false;
    EVP_PKEY* key = X509_get0_pubkey(ca);
    return key && X509_verify(cert, key) == 1;
}

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

store::FleetDeviceRecord toRecord(const dpb::Inventory& r) {
    store::FleetDeviceRecord d;
    d.deviceId = qs(r.device_id());
    d.name = qs(r.name());
    d.model = qs(r.model());
    d.hardware = qs(r.hardware());
    d.serial = qs(r.serial());
    d.version = qs(r.version());
    d.agentVersion = qs(r.agent_version());
    d.healthOk = r.health_ok();
    QJsonArray slots;
    for (const auto& s : r.slots()) {
        slots.append(QJsonObject{
            {QStringLiteral("name"), qs(s.name())},
            {QStringLiteral("state"), qs(s.state())},
            {QStringLiteral("version"), qs(s.version())},
            {QStringLiteral("security_version"), static_cast<double>(s.security_version())}});
    }
    d.slotsJson = QJsonDocument(slots).toJson(QJsonDocument::Compact);
    return d;
}

using SessionBase = grpc::ServerBidiReactor<dpb::AgentMessage, dpb::ServerMessage>;

// What the driver writes to a session: a queue with one StartWrite outstanding at a time (gRPC
// allows no more), and Finish only once no write is outstanding. Every call into the reactor
// happens under the mutex; the reactor clears `reactor` in OnDone, after which sends fail.
class SessionOutbox final : public SessionLink {
public:
    explicit SessionOutbox(SessionBase* reactor) : m_reactor(reactor) {}

    bool send(const dpb::ServerMessage& message) override {
        std::lock_guard lock(m_mutex);
        if (!m_reactor || m_finishing)
            return false;
        m_queue.push_back(message);
        if (!m_writing) {
            m_writing = true;
            m_reactor->StartWrite(&m_queue.front());
        }
        return true;
    }

    void writeDone(bool ok) {
        std::lock_guard lock(m_mutex);
        m_queue.pop_front();
        if (!ok) {
            m_queue.clear();
            m_finishing = true;  // the stream is broken; nothing more goes out
        }
        if (!m_queue.empty() && !m_finishing) {
            m_reactor->StartWrite(&m_queue.front());
            return;
        }
        m_writing = false;
        if (m_finishStatus) {
            m_reactor->Finish(*m_finishStatus);
            m_finishStatus.reset();
        }
    }

    // Finishes now, or after the write in flight; once only.
    void finish(const grpc::Status& status) {
        std::lock_guard lock(m_mutex);
        if (!m_reactor || m_finished)
            return;
        m_finished = true;
        m_finishing = true;
        if (m_writing) {
            m_finishStatus = status;
            return;
        }
        m_reactor->Finish(status);
    }

    void closed() {
        std::lock_guard lock(m_mutex);
        m_reactor = nullptr;
        m_queue.clear();
    }

    // Acknowledges the session's telemetry up to `seq`. An ack still waiting behind the write in
    // flight is raised instead of queueing another: a burst of batches costs one message.
    void ackTelemetry(quint64 seq) {
        std::lock_guard lock(m_mutex);
        if (!m_reactor || m_finishing)
            return;
        if (m_queue.size() > 1 && m_queue.back().has_telemetry_ack()) {
            auto* ack = m_queue.back().mutable_telemetry_ack();
            ack->set_seq(std::max<quint64>(ack->seq(), seq));
            return;
        }
        dpb::ServerMessage message;
        message.mutable_telemetry_ack()->set_seq(seq);
        m_queue.push_back(std::move(message));
        if (!m_writing) {
            m_writing = true;
            m_reactor->StartWrite(&m_queue.front());
        }
    }

private:
    std::mutex m_mutex;
    SessionBase* m_reactor;
    std::deque<dpb::ServerMessage> m_queue;  // front: being written
    bool m_writing = false;
    bool m_finishing = false;
    bool m_finished = false;
    std::optional<grpc::Status> m_finishStatus;
};

// A session's telemetry acknowledgements. They are cumulative (the agent forgets every event up
// to the acked seq), so an event is acked only once every event the session received before it
// is stored. The store writes a session's events in arrival order, so a stored event's seq can be
// acked at once; an event with nothing to store waits until no stored one is outstanding. An
// event the store could not keep ends the session: the agent still has it and sends it again
// after reconnecting.
class TelemetryAcks : public std::enable_shared_from_this<TelemetryAcks> {
public:
    explicit TelemetryAcks(std::weak_ptr<SessionOutbox> outbox) : m_outbox(std::move(outbox)) {}

    // `seq` goes to the store: the callback to give it.
    StoreWorker::Stored queued(quint64 seq) {
        {
            std::lock_guard lock(m_mutex);
            ++m_pending;
        }
        return [self = shared_from_this(), seq](bool stored) { self->stored(seq, stored); };
    }

    // `seq` carried nothing to keep (a sign of life).
    void nothingToStore(quint64 seq) {
        std::unique_lock lock(m_mutex);
        m_settled = std::max(m_settled, seq);
        if (m_pending == 0 && !m_failed)
            ack(lock, m_settled);
    }

private:
    void stored(quint64 seq, bool ok) {
        std::unique_lock lock(m_mutex);
        --m_pending;
        if (m_failed)
            return;
        if (!ok) {
            m_failed = true;
            lock.unlock();
            if (auto outbox = m_outbox.lock()) {
                outbox->finish(toGrpcStatus(
                    Error{QStringLiteral("server.store-failed"),
                          QStringLiteral("otafleetd could not store this device's telemetry; the "
                                         "device keeps it and sends it again when it reconnects. "
                                         "Check the server's log and free disk space.")}));
            }
            return;
        }
        m_settled = std::max(m_settled, seq);
        ack(lock, m_pending == 0 ? m_settled : seq);
    }

    void ack(std::unique_lock<std::mutex>& lock, quint64 seq) {
        lock.unlock();
        if (auto outbox = m_outbox.lock())
            outbox->ackTelemetry(seq);
    }

    std::mutex m_mutex;
    std::weak_ptr<SessionOutbox> m_outbox;
    qsizetype m_pending = 0;  // events handed to the store and not written yet
    quint64 m_settled = 0;    // highest seq received that needs nothing more from the store
    bool m_failed = false;
};

// Session: reads until the agent goes away or stays silent too long. The watchdog alarm is
// re-armed on every message; its callback only touches the shared guard.
class SessionReactor final : public SessionBase {
public:
    SessionReactor(DeviceService& service, grpc::CallbackServerContext* context, QString deviceId)
        : m_service(service),
          m_deviceId(std::move(deviceId)),
          m_guard(std::make_shared<Guard>()),
          m_outbox(std::make_shared<SessionOutbox>(this)),
          m_acks(std::make_shared<TelemetryAcks>(m_outbox)) {
        m_guard->context = context;
        m_origin.deviceId = m_deviceId;
        armWatchdog();
        // What the store knows of the device is read on the store's thread; reading starts once
        // it is known, so telemetry is always stamped with the device's model and version. A
        // device that never reported must send its inventory before it counts as online; a
        // decommissioned one is turned away here.
        m_service.store().post([this](FleetStore& s) {
            if (auto known = s.fleetDevices().get(m_deviceId)) {
                if (known->decommissioned) {
                    m_outbox->finish(toGrpcStatus(DeviceService::decommissioned(m_deviceId)));
                    return;
                }
                m_origin.model = known->model;
                m_origin.hardware = known->hardware;
                m_origin.version = known->version;
                m_online = true;
                m_service.store().notePresence(m_deviceId, true, QDateTime::currentDateTimeUtc());
            }
            StartRead(&m_message);
        });
    }

    void OnReadDone(bool ok) override {
        if (!ok) {
            m_outbox->finish(grpc::Status::OK);
            return;
        }
        if (!m_attached) {
            // The device is known not to be decommissioned: offers it holds or that waited for
            // it go out now (on this thread: the driver's lock is never taken on the store's).
            m_attached = true;
            if (RolloutDriver* rollouts = m_service.rollouts())
                rollouts->attach(m_deviceId, m_outbox);
        }
        armWatchdog();
        Status handled = handle();
        if (!handled) {
            m_outbox->finish(toGrpcStatus(handled.error()));
            return;
        }
        StartRead(&m_message);
    }

    void OnWriteDone(bool ok) override { m_outbox->writeDone(ok); }

    void OnDone() override {
        // Detach first (it takes the driver's lock, under which the driver sends), then close.
        if (RolloutDriver* rollouts = m_service.rollouts())
            rollouts->detach(m_deviceId, m_outbox.get());
        m_outbox->closed();
        {
            std::lock_guard lock(m_guard->mutex);
            m_guard->context = nullptr;
        }
        m_alarm.reset();
        if (m_online)
            m_service.store().notePresence(m_deviceId, false, QDateTime::currentDateTimeUtc());
        qCInfo(lcServer).noquote() << "session of" << m_deviceId << "ended";
        delete this;
    }

private:
    struct Guard {
        std::mutex mutex;
        grpc::CallbackServerContext* context = nullptr;
    };

    // A fresh alarm each time: a cancelled one may still be delivering its callback, and
    // destroying it is safe (gRPC counts references), re-arming it is not.
    void armWatchdog() {
        m_alarm = std::make_unique<grpc::Alarm>();
        m_alarm->Set(std::chrono::system_clock::now() +
                         std::chrono::seconds(3 * DeviceService::kHeartbeatSeconds),
                     [guard = m_guard](bool fired) {
                         if (!fired)
                             return;
                         std::lock_guard lock(guard->mutex);
                         if (guard->context)
                             guard->context->TryCancel();
                     });
    }

    Status handle() {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        switch (m_message.kind_case()) {
            case dpb::AgentMessage::kInventory:
                if (auto ok = m_service.recordLater(m_deviceId, m_message.inventory()); !ok)
                    return ok;
                m_origin.model = qs(m_message.inventory().model());
                m_origin.hardware = qs(m_message.inventory().hardware());
                m_origin.version = qs(m_message.inventory().version());
                m_online = true;
                return {};
            case dpb::AgentMessage::kTelemetry:
                // Kept once per (device, seq), in the store's next batch, and acknowledged once
                // written; an event without a body is only a sign of life.
                if (auto record = telemetryRecord(m_origin, m_message.telemetry())) {
                    const quint64 seq = record->seq;
                    m_service.store().queueTelemetry(std::move(*record), m_acks->queued(seq));
                } else {
                    m_acks->nothingToStore(m_message.telemetry().seq());
                }
                [[fallthrough]];
            case dpb::AgentMessage::kHeartbeat:
                if (m_online)
                    m_service.store().notePresence(m_deviceId, true, now);
                return {};
            case dpb::AgentMessage::kProgress: {
                const auto& p = m_message.progress();
                auto event = checkRequest(p);
                if (!event)
                    return fail(event.error());
                RolloutDriver* rollouts = m_service.rollouts();
                if (!rollouts)
                    return {};
                // Counted, and its final state audited with the save that counts it, by the
                // driver's next tick.
                if (auto counted = rollouts->onProgress(m_deviceId, qs(p.offer_id()), *event);
                    !counted) {
                    return fail(counted.error());
                }
                return {};
            }
            case dpb::AgentMessage::KIND_NOT_SET:
                break;
        }
        return fail(QStringLiteral("server.invalid-message"),
                    QStringLiteral("A session message must carry inventory, a heartbeat, progress "
                                   "or telemetry."));
    }

    DeviceService& m_service;
    QString m_deviceId;
    std::shared_ptr<Guard> m_guard;
    std::shared_ptr<SessionOutbox> m_outbox;
    std::shared_ptr<TelemetryAcks> m_acks;
    std::unique_ptr<grpc::Alarm> m_alarm;
    dpb::AgentMessage m_message;
    TelemetryOrigin m_origin;  // written by the store's job before the first read
    std::atomic<bool> m_online = false;
    bool m_attached = false;  // only touched by OnReadDone, one at a time
};

class DownloadReactor final : public grpc::ServerWriteReactor<dpb::DownloadChunk> {
public:
    DownloadReactor(QString path, qint64 offset, qint64 total) : m_total(total) {
        m_file.setFileName(path);
        if (!m_file.open(QIODevice::ReadOnly) || !m_file.seek(offset)) {
            Finish(toGrpcStatus(Error{QStringLiteral("io.read-failed"),
                                      QStringLiteral("The server could not read the release; "
                                                     "try again later.")}));
            return;
        }
        m_offset = offset;
        next();
    }
    void OnWriteDone(bool ok) override {
        if (!ok) {
            Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
            return;
        }
        next();
    }
    void OnDone() override { delete this; }

private:
    void next() {
        if (m_offset >= m_total) {
            Finish(grpc::Status::OK);
            return;
        }
        const QByteArray bytes = m_file.read(std::min(kDownloadChunk, m_total - m_offset));
        if (bytes.isEmpty()) {
            Finish(toGrpcStatus(Error{QStringLiteral("io.read-failed"),
                                      QStringLiteral("The release file ended early on the "
                                                     "server.")}));
            return;
        }
        m_chunk.set_offset(quint64(m_offset));
        m_chunk.set_total_size(quint64(m_total));
        m_chunk.set_data(bytes.constData(), size_t(bytes.size()));
        m_offset += bytes.size();
        StartWrite(&m_chunk);
    }
    QFile m_file;
    qint64 m_offset = 0;
    qint64 m_total;
    dpb::DownloadChunk m_chunk;
};

template <class Base>
class Reject final : public Base {
public:
    explicit Reject(const Error& error) { this->Finish(toGrpcStatus(error)); }
    void OnDone() override { delete this; }
};

}  // namespace

Result<std::unique_ptr<DeviceService>> DeviceService::create(StoreWorker& store,
                                                             const ServerConfig& config) {
    QList<crypto::Certificate> cas;
    if (auto loaded = crypto::Certificate::loadPemFile(config.deviceCa)) {
        for (const crypto::Certificate& ca : *loaded) {
            if (X509_check_issued(ca.handle(), ca.handle()) != X509_V_OK)
                cas << ca;
        }
    }
    if (cas.isEmpty()) {
        return fail(QStringLiteral("server.config-invalid"),
                    QStringLiteral("%1 holds no device CA certificate; fix [tls] device_ca or run "
                                   "'otafleetd setup' again.")
                        .arg(config.deviceCa));
    }
    return std::unique_ptr<DeviceService>(
        new DeviceService(store, std::move(cas), config.busyBacklog));
}

Error DeviceService::decommissioned(const QString& deviceId) {
    return Error{QStringLiteral("server.decommissioned"),
                 QStringLiteral("Device %1 was decommissioned; it may not connect.").arg(deviceId)};
}

Result<QString> DeviceService::identify(const grpc::CallbackServerContext* context,
                                        bool checkStore) {
    const auto notDevice = [] {
        return fail(QStringLiteral("server.not-a-device"),
                    QStringLiteral("DeviceService accepts only device certificates issued by the "
                                   "fleet's device CA; enrol the device first."));
    };
    const auto auth = context->auth_context();
    const auto pems = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                           : std::vector<grpc::string_ref>{};
    if (pems.empty())
        return notDevice();
    auto leaf = crypto::Certificate::fromPem(
        QByteArrayView(pems.front().data(), qsizetype(pems.front().size())));
    if (!leaf)
        return notDevice();
    const bool fromDeviceCa = std::any_of(
        m_deviceCas.begin(), m_deviceCas.end(),
        [&](const crypto::Certificate& ca) { return issuedBy(leaf->handle(), ca.handle()); });
    const QString id = leaf->commonName();
    if (!fromDeviceCa || !checkDeviceId(id.toStdString()))
        return notDevice();
    if (!checkStore)
        return id;
    auto device = m_store.run([&](FleetStore& s) { return s.fleetDevices().get(id); });
    if (device && device->decommissioned)
        return fail(decommissioned(id));
    return id;
}

Status DeviceService::recordLater(const QString& deviceId, const dpb::Inventory& inventory) {
    if (auto ok = checkRequest(inventory); !ok)
        return ok;
    if (qs(inventory.device_id()) != deviceId) {
        return fail(QStringLiteral("server.device-mismatch"),
                    QStringLiteral("The inventory names device %1 but the certificate names %2.")
                        .arg(qs(inventory.device_id()).left(128), deviceId));
    }
    m_store.post([this, record = toRecord(inventory)](FleetStore& s) {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        if (auto ok = s.fleetDevices().recordInventory(record, now); !ok) {
            qCWarning(lcServer).noquote()
                << "inventory of" << record.deviceId << "not stored:" << ok.error().toString();
            return;
        }
        m_store.notePresence(record.deviceId, true, now);
    });
    return {};
}

void DeviceService::auditLater(const QString& deviceId, const QString& action,
                               const QString& detail) {
    m_store.post([deviceId, action, detail](FleetStore& s) {
        const QString who = QStringLiteral("device:%1").arg(deviceId);
        if (auto ok = s.audit().append(who, who, action, detail); !ok) {
            qCCritical(lcServer).noquote()
                << "audit entry lost:" << action << who << ok.error().toString();
        }
    });
}

std::optional<Error> DeviceService::busy(grpc::CallbackServerContext* context) const {
    const qsizetype backlog = m_store.backlog();
    if (backlog < m_busyBacklog)
        return std::nullopt;
    // About how long the store needs to catch up (it writes thousands a second), at least 1 s;
    // the agent adds its own jitter and backoff on top.
    const qint64 hintMs = std::clamp<qint64>(backlog / 2, 1000, 60'000);
    context->AddTrailingMetadata(std::string(kRetryAfterKey), std::to_string(hintMs));
    return Error{QStringLiteral("server.busy"),
                 QStringLiteral("The server is busy (%1 writes queued); the device tries again in "
                                "about %2 s.")
                     .arg(backlog)
                     .arg(hintMs / 1000)};
}

grpc::ServerUnaryReactor* DeviceService::ReportInventory(grpc::CallbackServerContext* c,
                                                         const dpb::Inventory* r,
                                                         dpb::InventoryAck* reply) {
    if (auto overloaded = busy(c))
        return finishUnary(c, fail(*overloaded));
    auto id = identify(c);
    if (!id)
        return finishUnary(c, fail(id.error()));
    if (auto ok = recordLater(*id, *r); !ok)
        return finishUnary(c, ok);
    reply->set_server_time_unix_ms(QDateTime::currentMSecsSinceEpoch());
    reply->set_heartbeat_seconds(kHeartbeatSeconds);
    reply->set_acks_telemetry(true);
    return finishUnary(c, {});
}

grpc::ServerBidiReactor<dpb::AgentMessage, dpb::ServerMessage>* DeviceService::Session(
    grpc::CallbackServerContext* c) {
    if (auto overloaded = busy(c))
        return new Reject<grpc::ServerBidiReactor<dpb::AgentMessage, dpb::ServerMessage>>(
            *overloaded);
    auto id = identify(c, false);
    if (!id)
        return new Reject<grpc::ServerBidiReactor<dpb::AgentMessage, dpb::ServerMessage>>(
            id.error());
    return new SessionReactor(*this, c, *id);
}

grpc::ServerWriteReactor<dpb::DownloadChunk>* DeviceService::Download(
    grpc::CallbackServerContext* c, const dpb::DownloadRequest* r) {
    using R = Reject<grpc::ServerWriteReactor<dpb::DownloadChunk>>;
    auto id = identify(c);
    if (!id)
        return new R(id.error());
    if (auto ok = checkRequest(*r); !ok)
        return new R(ok.error());
    const QString releaseId = qs(r->release_id());
    if (!m_rollouts || !m_rollouts->mayDownload(*id, releaseId)) {
        auditLater(*id, QStringLiteral("device.download-refused"),
                   QStringLiteral("release %1 was not offered to it").arg(releaseId.left(64)));
        qCWarning(lcServer).noquote()
            << "refused a download of" << releaseId.left(64) << "by" << *id << ": not offered";
        return new R(Error{QStringLiteral("server.not-offered"),
                           QStringLiteral("Release %1 is not offered to device %2; a device "
                                          "downloads only the release of its open update offer.")
                               .arg(releaseId.left(64), *id)});
    }
    auto release = m_store.run([&](FleetStore& s) { return s.releases().get(releaseId); });
    if (!release)
        return new R(release.error());
    if (release->revoked) {
        return new R(
            Error{QStringLiteral("server.release-revoked"),
                  QStringLiteral("Release %1 was revoked; do not install it.").arg(releaseId)});
    }
    if (r->offset() > quint64(release->size)) {
        return new R(Error{QStringLiteral("server.invalid-offset"),
                           QStringLiteral("The offset %1 lies past the release's %2 bytes.")
                               .arg(r->offset())
                               .arg(release->size)});
    }
    return new DownloadReactor(release->blobPath, qint64(r->offset()), release->size);
}

}  // namespace otafleet::server
