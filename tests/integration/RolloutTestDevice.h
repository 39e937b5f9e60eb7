// A test-side fleet device for otafleetd's rollout tests: a thread that speaks DeviceService over
// real mutual TLS with a device certificate from the test PKI, on the generated stub. It follows
// the offer/progress contract of device.proto and RolloutDriver.h the way the agent must:
//   - on connect: a Session, its inventory first;
//   - a new offer: Download (resuming by offset after a broken link) and check the bundle's
//     SHA-256 against the offer, then report downloading, verifying, installing, rebooting and
//     one final state (succeeded, or failed when the device is told to fail), keeping the latest
//     state of each offer as a real agent keeps it on disk; after success it runs the offered
//     version and reports its inventory again;
//   - an offer it already holds (the server sends unfinished offers again after every
//     reconnect): only its latest state for that offer, nothing installed twice;
//   - a broken session: the work goes on, and it reconnects every 100 ms until stopped.
// It records every offer it received, so a test can tell who was offered what.
#pragma once

#include "otafleet/device/v1/device.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QCryptographicHash>
#include <QString>
#include <QStringList>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace otafleet::test {

class RolloutTestDevice {
public:
    struct Behaviour {
        bool fail = false;  // every install ends "failed"
        int stepMs = 30;    // time per progress step
    };

    RolloutTestDevice(QString id, QString model, QString version,
                      std::shared_ptr<grpc::Channel> channel, Behaviour behaviour)
        : m_id(std::move(id)),
          m_model(std::move(model)),
          m_version(std::move(version)),
          m_stub(device::v1::DeviceService::NewStub(std::move(channel))),
          m_behaviour(behaviour) {}
    ~RolloutTestDevice() { stop(); }
    RolloutTestDevice(const RolloutTestDevice&) = delete;
    RolloutTestDevice& operator=(const RolloutTestDevice&) = delete;

    void start() {
        m_stop = false;
        m_thread = std::thread([this] { run(); });
    }
    // Asks the thread to end (many devices stop at once this way); stop() also waits for it.
    void requestStop() {
        m_stop = true;
        std::lock_guard lock(m_mutex);
        if (m_context)
            m_context->TryCancel();
    }
    void stop() {
        requestStop();
        if (m_thread.joinable())
            m_thread.join();
    }

    const QString& id() const { return m_id; }
    // Every offer received, repeats included, in order: "OFFER_ID rollout=R wave=W".
    QStringList offers() const {
        std::lock_guard lock(m_mutex);
        return m_offers;
    }
    // Distinct offers of rollout `rolloutId` this device worked on.
    int offersOf(qint64 rolloutId) const {
        std::lock_guard lock(m_mutex);
        int n = 0;
        for (const auto& [offerId, rollout] : m_rolloutOf)
            n += rollout == rolloutId ? 1 : 0;
        return n;
    }
    QString version() const {
        std::lock_guard lock(m_mutex);
        return m_version;
    }
    int installs() const { return m_installs; }
    bool connected() const { return m_connected; }

    device::v1::Inventory inventory() const {
        device::v1::Inventory inv;
        inv.set_device_id(m_id.toStdString());
        inv.set_name("test-" + m_id.toStdString());
        inv.set_model(m_model.toStdString());
        inv.set_hardware("rev-a");
        inv.set_serial("SN-" + m_id.toStdString());
        inv.set_version(version().toStdString());
        inv.set_agent_version("test-device");
        inv.set_health_ok(true);
        return inv;
    }

private:
    using Stream = grpc::ClientReaderWriter<device::v1::AgentMessage, device::v1::ServerMessage>;

    void run() {
        while (!m_stop) {
            session();
            m_connected = false;
            for (int i = 0; i < 10 && !m_stop; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    void session() {
        auto context = std::make_shared<grpc::ClientContext>();
        {
            std::lock_guard lock(m_mutex);
            if (m_stop)
                return;
            m_context = context;
        }
        auto stream = m_stub->Session(context.get());
        device::v1::AgentMessage hello;
        *hello.mutable_inventory() = inventory();
        bool alive = stream->Write(hello);
        m_connected = alive;
        device::v1::ServerMessage message;
        while (alive && !m_stop && stream->Read(&message)) {
            if (message.has_offer())
                alive = handle(*stream, message.offer());
        }
        stream->WritesDone();
        (void)stream->Finish();
        std::lock_guard lock(m_mutex);
        m_context.reset();
    }

    // False when the session broke (the device still finished its work).
    bool handle(Stream& stream, const device::v1::UpdateOffer& offer) {
        const std::string offerId = offer.offer_id();
        std::optional<device::v1::Progress> known;
        {
            std::lock_guard lock(m_mutex);
            m_offers << QStringLiteral("%1 rollout=%2 wave=%3")
                            .arg(QString::fromStdString(offerId),
                                 QString::fromStdString(offer.rollout_id()))
                            .arg(offer.wave());
            const auto it = m_last.find(offerId);
            if (it != m_last.end())
                known = it->second;
            else
                m_rolloutOf[offerId] = QString::fromStdString(offer.rollout_id()).toLongLong();
        }
        if (known)
            return send(stream, *known);  // where this offer stands, nothing more
        bool alive = true;
        const auto step = [&](const char* state, quint64 done = 0, quint64 total = 0,
                              const char* code = "", const std::string& text = {}) {
            device::v1::Progress p;
            p.set_offer_id(offerId);
            p.set_state(state);
            p.set_done(done);
            p.set_total(total);
            p.set_error_code(code);
            p.set_error_message(text);
            {
                std::lock_guard lock(m_mutex);
                m_last[offerId] = p;  // kept before it is sent, as on an agent's disk
            }
            if (alive)
                alive = send(stream, p);
            std::this_thread::sleep_for(std::chrono::milliseconds(m_behaviour.stepMs));
        };
        const QByteArray bundle = download(offer);
        step("downloading", quint64(bundle.size()), offer.size());
        const QByteArray sha = QCryptographicHash::hash(bundle, QCryptographicHash::Sha256).toHex();
        if (sha.toStdString() != offer.sha256()) {
            step("failed", 0, 0, "download.checksum",
                 "the downloaded bundle does not match the offer's SHA-256");
            return alive;
        }
        step("verifying");
        step("installing");
        step("rebooting");
        ++m_installs;
        if (m_behaviour.fail) {
            step("failed", 0, 0, "install.failed", "the test device was told to fail");
            return alive;
        }
        {
            std::lock_guard lock(m_mutex);
            m_version = QString::fromStdString(offer.version());
        }
        step("succeeded");
        if (alive) {
            device::v1::AgentMessage again;
            *again.mutable_inventory() = inventory();
            alive = stream.Write(again);
        }
        return alive;
    }

    bool send(Stream& stream, const device::v1::Progress& progress) {
        device::v1::AgentMessage message;
        *message.mutable_progress() = progress;
        return stream.Write(message);
    }

    // The whole bundle, resuming by offset while the server is away (up to 20 s).
    QByteArray download(const device::v1::UpdateOffer& offer) {
        QByteArray bytes;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (quint64(bytes.size()) < offer.size() &&
               std::chrono::steady_clock::now() < deadline) {
            grpc::ClientContext context;
            context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
            device::v1::DownloadRequest request;
            request.set_release_id(offer.release_id());
            request.set_offset(quint64(bytes.size()));
            auto reader = m_stub->Download(&context, request);
            device::v1::DownloadChunk chunk;
            while (reader->Read(&chunk)) {
                if (chunk.offset() != quint64(bytes.size()))
                    break;
                bytes.append(chunk.data().data(), qsizetype(chunk.data().size()));
            }
            if (!reader->Finish().ok())
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return bytes;
    }

    const QString m_id;
    const QString m_model;
    QString m_version;
    std::unique_ptr<device::v1::DeviceService::Stub> m_stub;
    const Behaviour m_behaviour;
    mutable std::mutex m_mutex;
    std::shared_ptr<grpc::ClientContext> m_context;
    std::map<std::string, device::v1::Progress> m_last;
    std::map<std::string, qint64> m_rolloutOf;
    QStringList m_offers;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_connected{false};
    std::atomic<int> m_installs{0};
    std::thread m_thread;
};

}  // namespace otafleet::test
