#include "smp/SmpDeviceLink.h"

#include "smp/ImageUploader.h"
#include "smp/SmpError.h"

#include <QCryptographicHash>
#include <QFile>
#include <QPointer>
#include <QTimer>

namespace otafleet::smp {
namespace {

constexpr int kBootWaitMs = 15000;
constexpr int kPollMs = 200;
constexpr qint64 kMaxImage = 64 * 1024 * 1024;

}  // namespace

SmpDeviceLink::SmpDeviceLink(QString uri, std::unique_ptr<SmpTransport> transport, QObject* parent)
    : DeviceLink(std::move(uri),
                 {QStringLiteral("info"), QStringLiteral("update"), QStringLiteral("commit"),
                  QStringLiteral("rollback"), QStringLiteral("reboot")},
                 parent),
      m_transport(std::move(transport)),
      m_client(std::make_unique<SmpClient>(*m_transport)) {}

SmpDeviceLink::~SmpDeviceLink() {
    m_uploader.reset();
    m_client.reset();
}

link::DeviceSnapshot SmpDeviceLink::toSnapshot(const QString& uri,
                                               const QList<image::SlotState>& slots) {
    link::DeviceSnapshot s;
    s.deviceId = uri;
    s.name = uri;
    s.model = QStringLiteral("mcuboot");
    s.state = QStringLiteral("idle");
    s.healthOk = true;
    for (const auto& slot : slots) {
        link::SlotSnapshot out;
        out.name = slot.slot == 0 ? QStringLiteral("primary") : QStringLiteral("secondary");
        out.version = slot.version;
        out.sha256 = QString::fromLatin1(slot.hash.toHex());
        out.image = link::ImageSlotState{slot.image,     slot.slot,    slot.bootable, slot.active,
                                         slot.confirmed, slot.pending, slot.permanent};
        if (slot.active) {
            s.activeSlot = out.name;
            s.trial = !slot.confirmed;
            out.state = slot.confirmed ? QStringLiteral("active") : QStringLiteral("trial");
            if (s.trial) {
                s.state = QStringLiteral("trial");
            }
        } else if (slot.pending) {
            out.state = QStringLiteral("pending");
            s.state = QStringLiteral("pending-reboot");
        } else {
            out.state = QStringLiteral("inactive");
        }
        s.slots.append(out);
    }
    return s;
}

bool SmpDeviceLink::ensureOpen() {
    m_cancelled = false;
    if (m_open) {
        return true;
    }
    if (const Status opened = m_transport->open(); !opened) {
        const Error error = opened.error();
        QTimer::singleShot(0, this, [this, error] { complete(otafleet::fail(error)); });
        return false;
    }
    m_open = true;
    return true;
}

void SmpDeviceLink::fail(const Error& error) {
    complete(otafleet::fail(error));
}

void SmpDeviceLink::step(const Request& request, std::function<void(const QCborMap&)> then) {
    m_client->call(request, [self = QPointer(this), then = std::move(then)](Result<QCborMap> body) {
        if (!self) {
            return;
        }
        if (self->m_cancelled) {
            self->fail(Error{QStringLiteral("link.cancelled"),
                             QStringLiteral("The operation was cancelled.")});
            return;
        }
        const Status status = body ? checkResponse(*body) : Status(otafleet::fail(body.error()));
        if (!status) {
            self->fail(status.error());
            return;
        }
        then(*body);
    });
}

void SmpDeviceLink::finishWithState() {
    step(image::stateRead(), [this](const QCborMap& body) {
        const auto slots = image::parseState(body);
        if (!slots) {
            fail(slots.error());
            return;
        }
        complete(toSnapshot(uri(), *slots));
    });
}

void SmpDeviceLink::pollUntilBack(Next then) {
    if (m_resetClock.elapsed() > kBootWaitMs) {
        fail(Error{QStringLiteral("mcu.device-gone"),
                   QStringLiteral("The device did not answer within %1 s of its reset; check "
                                  "that it boots.")
                       .arg(kBootWaitMs / 1000)});
        return;
    }
    m_client->call(os::echo(QStringLiteral("otafleet")),
                   [self = QPointer(this), then = std::move(then)](Result<QCborMap> body) {
                       if (!self) {
                           return;
                       }
                       if (body && os::parseEcho(*body)) {
                           self->m_client->setTimeout(3000);
                           self->m_client->setRetries(2);
                           then();
                           return;
                       }
                       QTimer::singleShot(kPollMs, self,
                                          [self, then] { self->pollUntilBack(then); });
                   });
}

void SmpDeviceLink::resetAndWait(Next then) {
    reportProgress(link::UpdatePhase::Rebooting, 0, 0);
    step(os::reset(), [this, then = std::move(then)](const QCborMap&) {
        m_resetClock.start();
        m_client->setTimeout(kPollMs);
        m_client->setRetries(0);
        pollUntilBack(then);
    });
}

void SmpDeviceLink::startRefresh() {
    if (ensureOpen()) {
        finishWithState();
    }
}

void SmpDeviceLink::startUpdate(const QString& imagePath, const link::UpdateOptions& options) {
    if (!ensureOpen()) {
        return;
    }
    QFile file(imagePath);
    if (!file.open(QIODevice::ReadOnly) || file.size() > kMaxImage) {
        const Error error{QStringLiteral("io.read-failed"),
                          QStringLiteral("Cannot read the MCUboot image %1 (or it is larger "
                                         "than 64 MiB).")
                              .arg(imagePath)};
        QTimer::singleShot(0, this, [this, error] { fail(error); });
        return;
    }
    const QByteArray image = file.readAll();
    m_uploader = std::make_unique<ImageUploader>(*m_client);
    connect(m_uploader.get(), &ImageUploader::progress, this, [this](qint64 done, qint64 total) {
        reportProgress(link::UpdatePhase::Transferring, done, total);
    });
    connect(m_uploader.get(), &ImageUploader::failed, this,
            [this](const Error& error) { fail(error); });
    connect(m_uploader.get(), &ImageUploader::succeeded, this, [this, options] {
        if (!options.reboot) {
            finishWithState();
            return;
        }
        // The device names the uploaded image by the hash in its TLVs: read it back.
        step(image::stateRead(), [this, options](const QCborMap& body) {
            const auto slots = image::parseState(body);
            const auto secondary = slots ? std::find_if(slots->cbegin(), slots->cend(),
                                                        [](const auto& s) { return s.slot == 1; })
                                         : QList<image::SlotState>::const_iterator();
            if (!slots || secondary == slots->cend()) {
                fail(Error{QStringLiteral("mcu.no-image"),
                           QStringLiteral("The device holds no bootable image after the upload.")});
                return;
            }
            const QByteArray hash = secondary->hash;
            step(image::stateWrite(hash, false), [this, options, hash](const QCborMap&) {
                resetAndWait([this, options, hash] {
                    if (!options.commit) {
                        finishWithState();
                        return;
                    }
                    reportProgress(link::UpdatePhase::Committing, 0, 0);
                    step(image::stateWrite({}, true),
                         [this](const QCborMap&) { finishWithState(); });
                });
            });
        });
    });
    m_uploader->start(image);
}

void SmpDeviceLink::startCommit() {
    if (ensureOpen()) {
        step(image::stateWrite({}, true), [this](const QCborMap&) { finishWithState(); });
    }
}

void SmpDeviceLink::startRollback() {
    if (!ensureOpen()) {
        return;
    }
    step(image::stateRead(), [this](const QCborMap& body) {
        const auto slots = image::parseState(body);
        QByteArray other;
        for (const auto& slot : slots ? *slots : QList<image::SlotState>()) {
            if (!slot.active && slot.bootable) {
                other = slot.hash;
            }
        }
        if (other.isEmpty()) {
            fail(Error{QStringLiteral("mcu.nothing-to-roll-back"),
                       QStringLiteral("The device has no other image to go back to.")});
            return;
        }
        step(image::stateWrite(other, true),
             [this](const QCborMap&) { resetAndWait([this] { finishWithState(); }); });
    });
}

void SmpDeviceLink::startReboot() {
    if (ensureOpen()) {
        resetAndWait([this] { finishWithState(); });
    }
}

void SmpDeviceLink::requestCancel() {
    m_cancelled = true;
    m_client->cancelAll(
        Error{QStringLiteral("link.cancelled"), QStringLiteral("The operation was cancelled.")});
}

}  // namespace otafleet::smp
