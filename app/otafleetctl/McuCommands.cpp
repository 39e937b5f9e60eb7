// otafleetctl mcu ...: MCU-class devices (MCUboot/Zephyr) over MCUmgr SMP (issue 10): list
// serial ports, read image slots, upload (optionally all the way to a confirmed boot), mark an
// image for test or confirm it, reset, echo.
#include "Cli.h"
#include "McuSession.h"

#include "common/AtomicFile.h"
#include "crypto/Pki.h"
#include "smp/ImageUploader.h"
#include "smp/SmpError.h"
#include "smp/SmpProvisioning.h"
#include "station/FlashImage.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonObject>
#include <QSerialPortInfo>
#include <QTimer>

#include <algorithm>

namespace otafleet::cli {
namespace {

const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON."));
const QCommandLineOption kKey(QStringLiteral("key"),
                              QStringLiteral("Release public key (PEM) the image must verify "
                                             "against before it is sent."),
                              QStringLiteral("PUB.pem"));
const QCommandLineOption kPki(QStringLiteral("pki"),
                              QStringLiteral("PKI directory: verify against its release signer."),
                              QStringLiteral("PKI"));
const QCommandLineOption kTest(QStringLiteral("test"),
                               QStringLiteral("After the upload: mark it for a test boot, reset, "
                                              "and check that it runs (it reverts on the next "
                                              "reset unless confirmed)."));
const QCommandLineOption kConfirm(QStringLiteral("confirm"),
                                  QStringLiteral("As --test, then confirm the running image."));
const QCommandLineOption kInFlight(QStringLiteral("in-flight"),
                                   QStringLiteral("Upload requests outstanding at once (default: "
                                                  "as many as the device's buffers)."),
                                   QStringLiteral("N"), QStringLiteral("0"));
constexpr int kBootWaitMs = 15000;
constexpr qint64 kMaxKeyPem = 64 * 1024;

void addLinkOptions(QCommandLineParser& p) {
    p.addOptions({kMcuPort, kMcuBaud, kMcuUdp, kMcuBle, kMcuTimeout, kJson});
}

// Opens the session or reports why not (a usage problem exits 2).
int openSession(const QCommandLineParser& p, std::unique_ptr<McuSession>& session) {
    auto opened = McuSession::open(p);
    if (!opened) {
        if (opened.error().code == QStringLiteral("cli.usage")) {
            return usageError(opened.error().message);
        }
        return failWith(opened.error(), p.isSet(kJson));
    }
    session = std::move(*opened);
    return kSuccess;
}

Result<QList<smp::image::SlotState>> readState(McuSession& session) {
    const auto body = session.call(smp::image::stateRead());
    if (!body) {
        return fail(body.error());
    }
    return smp::image::parseState(*body);
}

int printImages(const QList<smp::image::SlotState>& slots, bool json, QJsonObject extra = {}) {
    if (json) {
        extra.insert(QStringLiteral("images"), imagesJson(slots));
        printJson(extra);
    } else {
        printText(imagesText(slots));
    }
    return kSuccess;
}

const QCommandLineOption kBleScan(QStringLiteral("ble-scan"),
                                  QStringLiteral("Also scan SECONDS (1-60) for Bluetooth LE "
                                                 "devices advertising the SMP service."),
                                  QStringLiteral("SECONDS"));

int runPorts(const QCommandLineParser& p) {
    std::optional<QList<smp::ScannedDevice>> bleDevices;
    if (p.isSet(kBleScan)) {
        bool ok = false;
        const int seconds = p.value(kBleScan).toInt(&ok);
        constexpr int kMaxScanSeconds = 60;
        if (!ok || seconds < 1 || seconds > kMaxScanSeconds) {
            return usageError(QStringLiteral("--ble-scan takes 1 to 60 seconds"));
        }
        const qint64 total = qint64(seconds) * 1000;
        ProgressPrinter printer(QStringLiteral("Scanning for Bluetooth LE devices offering SMP"));
        QElapsedTimer clock;
        clock.start();
        QTimer tick;
        constexpr int kTickMs = 250;
        tick.setInterval(kTickMs);
        QObject::connect(&tick, &QTimer::timeout, &tick,
                         [&] { printer.update(qMin(clock.elapsed(), total), total); });
        tick.start();
        auto scanned = scanBle(int(total));
        tick.stop();
        printer.finish();
        if (!scanned) {
            return failWith(scanned.error(), p.isSet(kJson));
        }
        bleDevices = std::move(*scanned);
    }
    QJsonArray ports;
    QStringList lines;
    for (const QSerialPortInfo& info : QSerialPortInfo::availablePorts()) {
        const QString vid =
            info.hasVendorIdentifier()
                ? QStringLiteral("%1").arg(info.vendorIdentifier(), 4, 16, QLatin1Char('0'))
                : QString();
        const QString pid =
            info.hasProductIdentifier()
                ? QStringLiteral("%1").arg(info.productIdentifier(), 4, 16, QLatin1Char('0'))
                : QString();
        ports.append(QJsonObject{{QStringLiteral("port"), info.systemLocation()},
                                 {QStringLiteral("description"), info.description()},
                                 {QStringLiteral("manufacturer"), info.manufacturer()},
                                 {QStringLiteral("vendor_id"), vid},
                                 {QStringLiteral("product_id"), pid},
                                 {QStringLiteral("serial_number"), info.serialNumber()}});
        lines.append(
            QStringLiteral("%1  %2:%3  %4  %5")
                .arg(info.systemLocation(), vid, pid, info.serialNumber(), info.description()));
    }
    if (lines.isEmpty()) {
        lines.append(QStringLiteral("No serial ports found."));
    }
    QJsonObject report{{QStringLiteral("ports"), ports}};
    if (bleDevices) {
        QJsonArray ble;
        for (const smp::ScannedDevice& device : *bleDevices) {
            ble.append(QJsonObject{{QStringLiteral("address"), device.address},
                                   {QStringLiteral("name"), device.name},
                                   {QStringLiteral("rssi"), device.rssi}});
            lines.append(QStringLiteral("ble %1  %2  %3 dBm")
                             .arg(device.address, device.name)
                             .arg(device.rssi));
        }
        if (bleDevices->isEmpty()) {
            lines.append(QStringLiteral("No Bluetooth LE device offering SMP found."));
        }
        report.insert(QStringLiteral("ble"), ble);
    }
    if (p.isSet(kJson)) {
        printJson(report);
    } else {
        printText(lines.join(QLatin1Char('\n')));
    }
    return kSuccess;
}

int runInfo(const QCommandLineParser& p) {
    std::unique_ptr<McuSession> session;
    if (const int rc = openSession(p, session); rc != kSuccess) {
        return rc;
    }
    const bool json = p.isSet(kJson);
    const auto slots = readState(*session);
    if (!slots) {
        return failWith(slots.error(), json);
    }
    QJsonObject extra;
    const auto params = session->call(smp::os::mcumgrParameters());
    if (const auto parsed = params ? smp::os::parseMcumgrParameters(*params)
                                   : Result<smp::os::McumgrParameters>(fail(params.error()))) {
        extra.insert(QStringLiteral("buf_size"), parsed->bufSize);
        extra.insert(QStringLiteral("buf_count"), parsed->bufCount);
    }
    const auto boot = session->call(smp::os::bootloaderInfo());
    if (const auto name =
            boot ? smp::os::parseBootloaderInfo(*boot) : Result<QString>(fail(boot.error()))) {
        extra.insert(QStringLiteral("bootloader"), *name);
    }
    return printImages(*slots, json, extra);
}

Result<QByteArray> hashArgument(const QCommandLineParser& p, bool required) {
    const QStringList args = p.positionalArguments();
    if (args.isEmpty() && !required) {
        return QByteArray();
    }
    const QByteArray hash =
        args.size() == 1 ? QByteArray::fromHex(args.first().toLatin1()) : QByteArray();
    if (hash.size() != smp::image::kShaSize) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("Give the image's hash as 64 hex digits (see 'mcu info')."));
    }
    return hash;
}

int runStateWrite(const QCommandLineParser& p, bool confirm) {
    const auto hash = hashArgument(p, !confirm);
    if (!hash) {
        return usageError(hash.error().message);
    }
    std::unique_ptr<McuSession> session;
    if (const int rc = openSession(p, session); rc != kSuccess) {
        return rc;
    }
    const auto body = session->call(smp::image::stateWrite(*hash, confirm));
    const auto slots = body ? smp::image::parseState(*body)
                            : Result<QList<smp::image::SlotState>>(fail(body.error()));
    if (!slots) {
        return failWith(slots.error(), p.isSet(kJson));
    }
    return printImages(*slots, p.isSet(kJson));
}

int runReset(const QCommandLineParser& p) {
    std::unique_ptr<McuSession> session;
    if (const int rc = openSession(p, session); rc != kSuccess) {
        return rc;
    }
    const auto body = session->call(smp::os::reset());
    const Status status = body ? smp::checkResponse(*body) : Status(fail(body.error()));
    if (!status) {
        return failWith(status.error(), p.isSet(kJson));
    }
    if (p.isSet(kJson)) {
        printJson(QJsonObject{{QStringLiteral("reset"), true}});
    } else {
        printText(QStringLiteral("The device is resetting."));
    }
    return kSuccess;
}

int runEcho(const QCommandLineParser& p) {
    if (p.positionalArguments().size() != 1) {
        return usageError(QStringLiteral("mcu echo takes one TEXT"));
    }
    std::unique_ptr<McuSession> session;
    if (const int rc = openSession(p, session); rc != kSuccess) {
        return rc;
    }
    const auto body = session->call(smp::os::echo(p.positionalArguments().first()));
    const auto text = body ? smp::os::parseEcho(*body) : Result<QString>(fail(body.error()));
    if (!text) {
        return failWith(text.error(), p.isSet(kJson));
    }
    if (p.isSet(kJson)) {
        printJson(QJsonObject{{QStringLiteral("echo"), *text}});
    } else {
        printText(*text);
    }
    return kSuccess;
}

Result<QByteArray> releaseKey(const QCommandLineParser& p) {
    if (p.isSet(kKey)) {
        return readFileBounded(p.value(kKey), kMaxKeyPem);
    }
    const auto pki = crypto::Pki::open(p.value(kPki));
    if (!pki) {
        return fail(pki.error());
    }
    return pki->publicKeyPem(QStringLiteral("release"));
}

// A refused image's error says that nothing was sent.
Result<station::FlashImage> notSent(Result<station::FlashImage> image) {
    if (!image) {
        return fail(image.error().withContext(QStringLiteral("not sent")));
    }
    return image;
}

// The image checked before it is sent: an otafleet bundle (for a device running otafleet-agent)
// against the PKI's release trust, an MCUboot image against the release key.
Result<station::FlashImage> loadImage(const QCommandLineParser& p, const QString& path) {
    if (station::isBundleFile(path)) {
        if (!p.isSet(kPki)) {
            return fail(QStringLiteral("cli.usage"),
                        QStringLiteral("%1 is an otafleet bundle: check it with --pki PKI (its "
                                       "release trust), not a key")
                            .arg(path));
        }
        const auto pki = crypto::Pki::open(p.value(kPki));
        const auto trust =
            pki ? pki->releaseTrust() : Result<crypto::TrustStore>(fail(pki.error()));
        if (!trust) {
            return fail(trust.error());
        }
        return notSent(station::loadBundle(path, *trust));
    }
    const auto key = releaseKey(p);
    if (!key) {
        return fail(key.error());
    }
    return notSent(station::loadMcubootImage(path, *key));
}

// Uploads with progress; returns where the device resumed from.
Result<qint64> upload(McuSession& session, const QByteArray& image, int inFlight, bool json,
                      QJsonObject& report) {
    smp::ImageUploader uploader(session.client());
    ProgressPrinter progress(QStringLiteral("Uploading"));
    QObject::connect(&uploader, &smp::ImageUploader::progress, &uploader,
                     [&progress](qint64 done, qint64 total) { progress.update(done, total); });
    std::optional<Status> result;
    QEventLoop loop;
    QObject::connect(&uploader, &smp::ImageUploader::succeeded, &loop, [&] {
        result = Status();
        loop.quit();
    });
    QObject::connect(&uploader, &smp::ImageUploader::failed, &loop, [&](const Error& error) {
        result = Status(fail(error));
        loop.quit();
    });
    QElapsedTimer clock;
    clock.start();
    uploader.start(image, inFlight);
    if (!result) {
        loop.exec();
    }
    progress.finish();
    if (!*result) {
        return fail(result->error());
    }
    report.insert(QStringLiteral("seconds"), double(clock.elapsed()) / 1000.0);
    report.insert(QStringLiteral("chunk_size"), uploader.chunkSize());
    report.insert(QStringLiteral("in_flight"), uploader.window());
    report.insert(QStringLiteral("resumed_from"), uploader.resumedFrom());
    if (!json && uploader.resumedFrom() > 0) {
        printText(QStringLiteral("Resumed the upload at byte %1 where the device left off.")
                      .arg(uploader.resumedFrom()));
    }
    return uploader.resumedFrom();
}

// Mark test, reset, wait, check the new image runs, and (confirm) confirm it.
Result<QList<smp::image::SlotState>> bootNewImage(McuSession& session, const QByteArray& hash,
                                                  bool confirm) {
    const auto marked = session.call(smp::image::stateWrite(hash, false));
    const auto markedState = marked ? smp::image::parseState(*marked)
                                    : Result<QList<smp::image::SlotState>>(fail(marked.error()));
    if (!markedState) {
        return fail(markedState.error());
    }
    const auto reset = session.call(smp::os::reset());
    if (const Status s = reset ? smp::checkResponse(*reset) : Status(fail(reset.error())); !s) {
        return fail(s.error());
    }
    if (const Status back = session.waitForDevice(kBootWaitMs); !back) {
        return fail(back.error());
    }
    auto slots = readState(session);
    if (!slots) {
        return slots;
    }
    const bool running = std::any_of(slots->cbegin(), slots->cend(), [&](const auto& slot) {
        return slot.active && slot.hash == hash;
    });
    if (!running) {
        return fail(QStringLiteral("mcu.swap-failed"),
                    QStringLiteral("After the reset the device does not run the new image: its "
                                   "bootloader refused or reverted it. Check the image with "
                                   "'otafleetctl mcuboot verify' and the device's key."));
    }
    if (!confirm) {
        return slots;
    }
    const auto confirmed = session.call(smp::image::stateWrite({}, true));
    return confirmed ? smp::image::parseState(*confirmed)
                     : Result<QList<smp::image::SlotState>>(fail(confirmed.error()));
}

int runMcuUpload(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    if (p.positionalArguments().size() != 1) {
        return usageError(QStringLiteral("mcu upload takes one IMAGE"));
    }
    if (p.isSet(kKey) == p.isSet(kPki)) {
        return usageError(
            QStringLiteral("mcu upload needs --key PUB.pem or --pki PKI to check "
                           "the image before sending it"));
    }
    bool ok = false;
    const int inFlight = p.value(kInFlight).toInt(&ok);
    if (!ok || inFlight < 0) {
        return usageError(QStringLiteral("--in-flight takes a number (0: the device's count)"));
    }
    const auto image = loadImage(p, p.positionalArguments().first());
    if (!image) {
        return image.error().code == u"cli.usage" ? usageError(image.error().message)
                                                  : failWith(image.error(), json);
    }
    std::unique_ptr<McuSession> session;
    if (const int rc = openSession(p, session); rc != kSuccess) {
        return rc;
    }
    QJsonObject report{{QStringLiteral("bytes"), qint64(image->bytes.size())},
                       {QStringLiteral("version"), image->version},
                       {QStringLiteral("hash"), QString::fromLatin1(image->hash.toHex())},
                       {QStringLiteral("format"), smp::provision::imageFormatName(image->format)}};
    const auto uploaded = upload(*session, image->bytes, inFlight, json, report);
    if (!uploaded) {
        return failWith(uploaded.error(), json);
    }
    QString state = QStringLiteral("uploaded");
    if (p.isSet(kTest) || p.isSet(kConfirm)) {
        const auto slots = bootNewImage(*session, image->hash, p.isSet(kConfirm));
        if (!slots) {
            return failWith(slots.error(), json);
        }
        state = p.isSet(kConfirm) ? QStringLiteral("confirmed") : QStringLiteral("testing");
        report.insert(QStringLiteral("images"), imagesJson(*slots));
    }
    report.insert(QStringLiteral("state"), state);
    if (json) {
        printJson(report);
    } else {
        printText(QStringLiteral("Uploaded %1 (%2, hash %3) in %4 s: %5.")
                      .arg(formatBytes(image->bytes.size()), image->version,
                           QString::fromLatin1(image->hash.toHex().left(16)))
                      .arg(report.value(QStringLiteral("seconds")).toDouble(), 0, 'f', 1)
                      .arg(state));
    }
    return kSuccess;
}

}  // namespace

QList<Command> mcuCommands() {
    const QString link = QStringLiteral("(--port DEV [--baud N] | --udp HOST:PORT | --ble ADDR)");
    return {
        Command{QStringLiteral("mcu"),
                QStringLiteral("ports"),
                QStringLiteral("List serial ports with vendor, product and serial number (and "
                               "with --ble-scan, BLE devices offering SMP)."),
                {},
                [](QCommandLineParser& p) {
                    p.addOptions({kJson, kBleScan});
                },
                runPorts},
        Command{QStringLiteral("mcu"), QStringLiteral("info"),
                QStringLiteral("Show a device's image slots and SMP buffers."), link,
                addLinkOptions, runInfo},
        Command{QStringLiteral("mcu"), QStringLiteral("upload"),
                QStringLiteral("Check an MCUboot image against the release key (or an otafleet "
                               "bundle for a device running otafleet-agent against --pki) and "
                               "upload it (resumes an interrupted upload)."),
                QStringLiteral("IMAGE ") + link,
                [](QCommandLineParser& p) {
                    addLinkOptions(p);
                    p.addOptions({kKey, kPki, kTest, kConfirm, kInFlight});
                    p.addPositionalArgument(
                        QStringLiteral("image"),
                        QStringLiteral("Signed MCUboot image, or a signed .otab bundle for a Linux "
                                       "device whose otafleet-agent answers SMP ([smp] in "
                                       "agent.conf; needs --pki)."));
                },
                runMcuUpload},
        Command{QStringLiteral("mcu"), QStringLiteral("test"),
                QStringLiteral("Mark the image with HASH for a test boot at the next reset."),
                QStringLiteral("HASH ") + link,
                [](QCommandLineParser& p) {
                    addLinkOptions(p);
                    p.addPositionalArgument(QStringLiteral("hash"), QStringLiteral("Image hash."));
                },
                [](const QCommandLineParser& p) { return runStateWrite(p, false); }},
        Command{QStringLiteral("mcu"), QStringLiteral("confirm"),
                QStringLiteral("Confirm the running image (or make HASH permanent)."),
                QStringLiteral("[HASH] ") + link,
                [](QCommandLineParser& p) {
                    addLinkOptions(p);
                    p.addPositionalArgument(QStringLiteral("hash"),
                                            QStringLiteral("Image hash (default: running)."));
                },
                [](const QCommandLineParser& p) { return runStateWrite(p, true); }},
        Command{QStringLiteral("mcu"), QStringLiteral("reset"), QStringLiteral("Reset the device."),
                link, addLinkOptions, runReset},
        Command{QStringLiteral("mcu"), QStringLiteral("echo"),
                QStringLiteral("Send TEXT and print what the device echoes."),
                QStringLiteral("TEXT ") + link,
                [](QCommandLineParser& p) {
                    addLinkOptions(p);
                    p.addPositionalArgument(QStringLiteral("text"), QStringLiteral("Text."));
                },
                runEcho},
    };
}

}  // namespace otafleet::cli
