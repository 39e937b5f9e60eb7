#include "station/StationUnit.h"

#include "smp/ImageUploader.h"
#include "smp/SmpError.h"
#include "smp/SmpProvisioning.h"
#include "smp/SmpTransport.h"
#include "station/DeviceCertifier.h"
#include "station/RecordExport.h"

#include <QPointer>
#include <QSerialPortInfo>
#include <QTimer>
#include <QUuid>

namespace otafleet::station {
namespace {

namespace provision = smp::provision;
constexpr int kBootPollMs = 200;
// Zephyr's default SMP buffer, for firmware too old to answer MCUmgr parameters.
constexpr qint64 kDefaultBufSize = 384;

}  // namespace

StationUnit::StationUnit(QString port, const UnitJob& job, QObject* parent)
    : QObject(parent), m_job(job) {
    m_record.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_record.port = std::move(port);
    // Until the unit tells what it takes: the MCUboot image, or the bundle of a bundle-only run.
    const bool bundleOnly = job.image.isEmpty();
    m_record.imageHash = QString::fromLatin1((bundleOnly ? job.bundleHash : job.imageHash).toHex());
    m_record.imageVersion = bundleOnly ? job.bundleVersion : job.imageVersion;
    m_record.stationId = job.stationId;
    m_record.operatorName = job.operatorName;
}

StationUnit::~StationUnit() {
    // The uploader and the client hold references to what follows them.
    m_uploader.reset();
    m_client.reset();
    m_transport.reset();
}

void StationUnit::setStage(const QString& stage) {
    m_stage = stage;
    Q_EMIT stageChanged(stage, m_record.serialNumber);
}

void StationUnit::start() {
    m_record.startedAt = QDateTime::currentDateTimeUtc();
    setStage(QStringLiteral("connect"));
    if (m_job.unitTimeoutMs > 0) {
        m_deadline.setSingleShot(true);
        connect(&m_deadline, &QTimer::timeout, this, [this] {
            failWith(Error{QStringLiteral("station.unit-timeout"),
                           QStringLiteral("The unit took longer than %1 s (it was at \"%2\"); "
                                          "unplug it, check its cable and firmware, and plug it "
                                          "in again.")
                               .arg(double(m_job.unitTimeoutMs) / 1000.0, 0, 'f', 1)
                               .arg(m_stage)});
        });
        m_deadline.start(std::chrono::milliseconds(m_job.unitTimeoutMs));
    }
    m_transport = std::make_unique<smp::SerialTransport>(m_record.port, m_job.baud);
    if (const Status opened = m_transport->open(); !opened) {
        const Error error = opened.error();
        QTimer::singleShot(0, this, [this, error] { failWith(error); });
        return;
    }
    m_client = std::make_unique<smp::SmpClient>(*m_transport);
    m_client->setTimeout(m_job.requestTimeoutMs);
    identify();
}

void StationUnit::call(const smp::Request& request, Then then) {
    m_client->call(request, [self = QPointer(this), then = std::move(then)](Result<QCborMap> body) {
        if (!self || self->m_finished) {
            return;
        }
        const Status status = body ? smp::checkResponse(*body) : Status(fail(body.error()));
        if (!status) {
            self->failWith(status.error());
            return;
        }
        then(*body);
    });
}

template <typename T>
void StationUnit::callOptional(const smp::Request& request, Result<T> (*parse)(const QCborMap&),
                               std::function<void(const T&)> done,
                               std::function<void(const Error&)> unsupported) {
    m_client->call(request, [self = QPointer(this), parse, done = std::move(done),
                             unsupported = std::move(unsupported)](Result<QCborMap> body) {
        if (!self || self->m_finished) {
            return;
        }
        const Result<T> value = body ? parse(*body) : Result<T>(fail(body.error()));
        if (value) {
            done(*value);
        } else if (value.error().code == QStringLiteral("smp.device.not-supported")) {
            unsupported(value.error());
        } else {
            self->failWith(value.error());
        }
    });
}

void StationUnit::identify() {
    setStage(QStringLiteral("identify"));
    callOptional<provision::Identity>(
        provision::identityRead(), provision::parseIdentity,
        [this](const provision::Identity& identity) {
            m_record.serialNumber = identity.serialNumber;
            readParameters();
        },
        [this](const Error& error) {
            if (m_job.certifier) {
                failWith(error);  // provisioning needs the group
                return;
            }
            // Firmware without our group: a USB device still has its iSerial.
            m_record.serialNumber = QSerialPortInfo(m_record.port).serialNumber();
            if (m_record.serialNumber.isEmpty()) {
                failWith(Error{
                    QStringLiteral("station.no-serial-number"),
                    QStringLiteral("The unit on %1 tells no serial number: its firmware lacks "
                                   "otafleet's provisioning group (README) and the port has no "
                                   "USB serial number. Add the group to the firmware.")
                        .arg(m_record.port)});
                return;
            }
            readParameters();
        });
}

void StationUnit::readParameters() {
    callOptional<smp::os::McumgrParameters>(
        smp::os::mcumgrParameters(), smp::os::parseMcumgrParameters,
        [this](const smp::os::McumgrParameters& params) {
            m_bufSize = params.bufSize;
            readFormat();
        },
        [this](const Error&) {
            m_bufSize = kDefaultBufSize;
            readFormat();
        });
}

void StationUnit::readFormat() {
    setStage(QStringLiteral("format"));
    callOptional<provision::ImageFormat>(
        provision::imageFormatRead(), provision::parseImageFormat,
        [this](const provision::ImageFormat& format) { choose(format); },
        [this](const Error&) {
            choose(provision::ImageFormat::Mcuboot);  // MCUboot firmware without the command
        });
}

void StationUnit::choose(provision::ImageFormat format) {
    const bool bundle = format == provision::ImageFormat::Bundle;
    m_image = bundle ? &m_job.bundle : &m_job.image;
    m_imageHash = bundle ? m_job.bundleHash : m_job.imageHash;
    if (m_image->isEmpty()) {
        failWith(Error{
            QStringLiteral("station.no-image-for-unit"),
            bundle ? QStringLiteral("The unit is a Linux device running otafleet-agent, which "
                                    "takes an otafleet bundle; give the run --bundle BUNDLE.otab.")
                   : QStringLiteral("The unit takes MCUboot images; give the run --image "
                                    "IMAGE.")});
        return;
    }
    m_record.imageHash = QString::fromLatin1(m_imageHash.toHex());
    m_record.imageVersion = bundle ? m_job.bundleVersion : m_job.imageVersion;
    inspect();
}

void StationUnit::inspect() {
    setStage(QStringLiteral("inspect"));
    call(smp::image::stateRead(), [this](const QCborMap& body) {
        const auto slots = smp::image::parseState(body);
        if (!slots) {
            failWith(slots.error());
            return;
        }
        // A unit that already runs this image, confirmed (a retried unit whose flash passed but
        // whose provisioning failed), is not flashed again.
        for (const auto& slot : *slots) {
            if (slot.active && slot.confirmed && slot.hash == m_imageHash) {
                provision();
                return;
            }
        }
        upload();
    });
}

void StationUnit::upload() {
    setStage(QStringLiteral("upload"));
    m_uploader = std::make_unique<smp::ImageUploader>(*m_client);
    connect(m_uploader.get(), &smp::ImageUploader::progress, this, &StationUnit::progress);
    connect(m_uploader.get(), &smp::ImageUploader::failed, this, &StationUnit::failWith);
    connect(m_uploader.get(), &smp::ImageUploader::succeeded, this, &StationUnit::markTest);
    m_uploader->start(*m_image);
}

void StationUnit::markTest() {
    setStage(QStringLiteral("test"));
    call(smp::image::stateRead(), [this](const QCborMap& body) {
        const auto slots = smp::image::parseState(body);
        if (!slots) {
            failWith(slots.error());
            return;
        }
        const bool held = std::any_of(slots->cbegin(), slots->cend(), [this](const auto& slot) {
            return slot.slot == 1 && slot.hash == m_imageHash;
        });
        if (!held) {
            failWith(Error{QStringLiteral("station.image-missing"),
                           QStringLiteral("After the upload the unit holds no image with hash %1 "
                                          "in its secondary slot; its image manager dropped it. "
                                          "Check the unit's flash and try it again.")
                               .arg(m_record.imageHash.left(16))});
            return;
        }
        call(smp::image::stateWrite(m_imageHash, false), [this](const QCborMap&) { reset(); });
    });
}

void StationUnit::reset() {
    setStage(QStringLiteral("reset"));
    call(smp::os::reset(), [this](const QCborMap&) {
        setStage(QStringLiteral("boot"));
        m_bootClock.start();
        m_client->setTimeout(kBootPollMs);
        m_client->setRetries(0);
        QTimer::singleShot(kBootPollMs, this, &StationUnit::pollBoot);
    });
}

void StationUnit::pollBoot() {
    if (m_finished) {
        return;
    }
    if (m_bootClock.elapsed() > m_job.bootWaitMs) {
        failWith(Error{QStringLiteral("mcu.device-gone"),
                       QStringLiteral("The unit did not answer within %1 s of its reset; check "
                                      "that the new image boots.")
                           .arg(m_job.bootWaitMs / 1000)});
        return;
    }
    if (m_linkDown) {
        // A USB CDC-ACM port goes away while the unit resets: open it again once it is back.
        if (!m_transport->open()) {
            QTimer::singleShot(kBootPollMs, this, &StationUnit::pollBoot);
            return;
        }
        m_linkDown = false;
    }
    m_client->call(smp::os::echo(QStringLiteral("otafleet")),
                   [self = QPointer(this)](Result<QCborMap> body) {
                       if (!self || self->m_finished) {
                           return;
                       }
                       if (body && smp::os::parseEcho(*body)) {
                           self->m_client->setTimeout(self->m_job.requestTimeoutMs);
                           self->m_client->setRetries(2);
                           self->checkRunning();
                           return;
                       }
                       if (!body && body.error().code == QStringLiteral("smp.link-lost")) {
                           self->m_transport->close();
                           self->m_linkDown = true;
                       }
                       QTimer::singleShot(kBootPollMs, self, &StationUnit::pollBoot);
                   });
}

void StationUnit::checkRunning() {
    setStage(QStringLiteral("confirm"));
    call(smp::image::stateRead(), [this](const QCborMap& body) {
        const auto slots = smp::image::parseState(body);
        if (!slots) {
            failWith(slots.error());
            return;
        }
        const bool running = std::any_of(slots->cbegin(), slots->cend(), [this](const auto& s) {
            return s.active && s.hash == m_imageHash;
        });
        if (!running) {
            failWith(Error{QStringLiteral("mcu.swap-failed"),
                           QStringLiteral("After the reset the unit does not run the new image: "
                                          "its bootloader refused or reverted it. Check the "
                                          "unit's bootloader key against the release key.")});
            return;
        }
        confirm();
    });
}

void StationUnit::confirm() {
    call(smp::image::stateWrite({}, true), [this](const QCborMap&) { provision(); });
}

void StationUnit::provision() {
    if (m_job.certifier == nullptr) {
        pass();
        return;
    }
    setStage(QStringLiteral("provision"));
    call(provision::csrRead(), [this](const QCborMap& body) {
        const auto csr = provision::parseCsr(body);
        if (!csr) {
            failWith(csr.error());
            return;
        }
        // Signing in the HSM takes milliseconds; the other units wait that long, no more.
        const auto identity = m_job.certifier->certify(m_record.serialNumber, *csr);
        if (!identity) {
            failWith(identity.error());
            return;
        }
        const smp::Request request = provision::certWrite(identity->chainDer);
        const auto packet = smp::encodeRequest(request, smp::Version::V2, 0);
        if (!packet || packet->size() > m_bufSize) {
            failWith(Error{QStringLiteral("station.chain-too-large"),
                           QStringLiteral("The certificate chain needs a %1-byte SMP request; the "
                                          "unit takes at most %2. Raise the firmware's SMP buffer "
                                          "(CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE).")
                               .arg(packet ? packet->size() : 0)
                               .arg(m_bufSize)});
            return;
        }
        const QString fingerprint = identity->fingerprint.toLower();
        call(request, [this, fingerprint](const QCborMap& answer) {
            if (const Status stored = provision::parseCertWrite(answer); !stored) {
                failWith(stored.error());
                return;
            }
            m_record.certFingerprint = fingerprint;
            pass();
        });
    });
}

void StationUnit::pass() {
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_deadline.stop();
    m_record.result = QString::fromLatin1(kResultPass);
    m_record.finishedAt = QDateTime::currentDateTimeUtc();
    m_transport->close();
    Q_EMIT finished(m_record);
}

void StationUnit::failWith(const Error& error) {
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_deadline.stop();
    m_record.result = QString::fromLatin1(kResultFail);
    m_record.failedStage = m_stage;
    m_record.failureCode = error.code;
    // What a device said goes to terminals, CSV files and other stations: printable and bounded.
    QString reason = error.message.left(kMaxReason);
    std::replace_if(
        reason.begin(), reason.end(), [](QChar c) { return !c.isPrint(); }, QLatin1Char(' '));
    m_record.failureReason = reason;
    m_record.finishedAt = QDateTime::currentDateTimeUtc();
    if (m_record.startedAt.isNull()) {
        m_record.startedAt = m_record.finishedAt;
    }
    if (m_client) {
        m_client->cancelAll(error);
    }
    if (m_transport) {
        m_transport->close();
    }
    Q_EMIT finished(m_record);
}

void StationUnit::abort(const Error& why) {
    failWith(why);
}

}  // namespace otafleet::station
