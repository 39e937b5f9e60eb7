#include "agent/SmpSerialService.h"

#include "agent/Agent.h"
#include "agent/AgentSmp.h"
#include "agent/Logging.h"
#include "smp/SerialEndpoint.h"

#include <QThread>

#include <fcntl.h>
#include <unistd.h>
#include <cstdlib>

namespace otafleet::agent {
namespace {

// The pty master an earlier image of this process handed over, or -1.
int inheritedPtyFd() {
    const char* value = std::getenv(SmpSerialService::kPtyFdVariable);
    if (value == nullptr) {
        return -1;
    }
    bool ok = false;
    const int fd = QByteArray(value).toInt(&ok);
    ::unsetenv(SmpSerialService::kPtyFdVariable);
    return ok && fd > STDERR_FILENO && ::fcntl(fd, F_GETFD) != -1 ? fd : -1;
}

}  // namespace

class SmpSerialService::Worker {
public:
    Worker(Agent& agent, int paceBaud, std::function<void()> onReset)
        : m_backend(agent),
          m_onReset(std::move(onReset)),
          m_endpoint(paceBaud, [this](const QByteArray& packet) { return onPacket(packet); }) {
        QObject::connect(&m_endpoint, &smp::SerialEndpoint::drained, &m_endpoint,
                         [this] { resetIfAnswered(); });
    }

    smp::SerialEndpoint& endpoint() { return m_endpoint; }

private:
    bool onPacket(const QByteArray& packet) {
        if (m_resetting) {
            return false;  // going down: what arrives now is lost, as on a device that resets
        }
        const smp::DeviceReply reply = smp::respond(m_backend, packet);
        if (!reply.packet.isEmpty()) {
            m_endpoint.send(reply.packet);
        }
        if (reply.resetAfter) {
            qCInfo(lcAgent) << "smp: reset requested";
            m_resetting = true;
            resetIfAnswered();
            return false;
        }
        return true;
    }

    void resetIfAnswered() {
        if (m_resetting && !m_endpoint.outputPending() && m_onReset) {
            std::exchange(m_onReset, {})();
        }
    }

    AgentSmpBackend m_backend;
    std::function<void()> m_onReset;
    bool m_resetting = false;
    smp::SerialEndpoint m_endpoint;
};

Result<std::unique_ptr<SmpSerialService>> SmpSerialService::start(Agent& agent,
                                                                  std::function<void()> onReset) {
    const AgentConfig& config = agent.config();
    const bool pty = config.smpSerial == QLatin1String(AgentConfig::kSmpPty);
    std::unique_ptr<SmpSerialService> service(new SmpSerialService);
    service->m_thread = std::make_unique<QThread>();
    service->m_thread->setObjectName(QStringLiteral("smp-serial"));
    service->m_context = std::make_unique<QObject>();
    service->m_context->moveToThread(service->m_thread.get());
    service->m_thread->start();
    Result<QString> opened = QString();
    const int inherited = pty ? inheritedPtyFd() : -1;
    QMetaObject::invokeMethod(
        service->m_context.get(),
        [&] {
            // A tty is paced by its own hardware; a pty only when asked to act like a UART.
            service->m_worker = new Worker(agent, pty ? config.smpBaud : 0, std::move(onReset));
            smp::SerialEndpoint& endpoint = service->m_worker->endpoint();
            if (!pty) {
                const Status ok = endpoint.openDevice(config.smpSerial, config.smpBaud);
                opened = ok ? Result<QString>(QString()) : Result<QString>(fail(ok.error()));
            } else {
                // The pty of the previous image, so the client keeps its port; a new one if that
                // descriptor is not a pty master after all.
                opened = inherited >= 0 ? endpoint.adoptPty(inherited) : endpoint.openPty();
                if (!opened && inherited >= 0) {
                    opened = endpoint.openPty();
                }
            }
        },
        Qt::BlockingQueuedConnection);
    if (!opened) {
        service->stop();
        return fail(opened.error());
    }
    service->m_ptyPath = *opened;
    return service;
}

int SmpSerialService::stopForRestart() {
    int fd = -1;
    if (m_worker != nullptr) {
        QMetaObject::invokeMethod(
            m_context.get(), [&] { fd = m_worker->endpoint().release(); },
            Qt::BlockingQueuedConnection);
    }
    stop();
    if (fd >= 0 && m_ptyPath.isEmpty()) {
        ::close(fd);  // a tty is opened again by the next image
        fd = -1;
    }
    return fd;
}

void SmpSerialService::stop() {
    if (!m_thread) {
        return;
    }
    if (m_worker != nullptr) {
        QMetaObject::invokeMethod(
            m_context.get(), [this] { delete std::exchange(m_worker, nullptr); },
            Qt::BlockingQueuedConnection);
    }
    QMetaObject::invokeMethod(
        m_context.get(), [this] { m_context->moveToThread(nullptr); },
        Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
    m_context.reset();
    m_thread.reset();
}

SmpSerialService::~SmpSerialService() {
    stop();
}

}  // namespace otafleet::agent
