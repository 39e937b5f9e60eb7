#include "McuSession.h"

#include "smp/SmpTransportPlugin.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QThread>
#include <QTimer>

namespace otafleet::cli {

const QCommandLineOption kMcuPort(
    QStringLiteral("port"), QStringLiteral("Serial port of the device (/dev/ttyACM0, a pty)."),
    QStringLiteral("DEV"));
const QCommandLineOption kMcuBaud(QStringLiteral("baud"),
                                  QStringLiteral("Serial baud rate (default 115200)."),
                                  QStringLiteral("N"), QStringLiteral("115200"));
const QCommandLineOption kMcuUdp(QStringLiteral("udp"),
                                 QStringLiteral("SMP over UDP: the device's HOST:PORT."),
                                 QStringLiteral("HOST:PORT"));
const QCommandLineOption kMcuBle(QStringLiteral("ble"),
                                 QStringLiteral("SMP over Bluetooth LE: the device's address "
                                                "(AA:BB:CC:DD:EE:FF); needs an adapter and "
                                                "BlueZ."),
                                 QStringLiteral("ADDRESS"));
const QCommandLineOption kMcuTimeout(QStringLiteral("timeout"),
                                     QStringLiteral("Milliseconds to wait for each answer "
                                                    "(default 3000)."),
                                     QStringLiteral("MS"), QStringLiteral("3000"));

Result<std::unique_ptr<McuSession>> McuSession::open(const QCommandLineParser& p) {
    const int links = int(p.isSet(kMcuPort)) + int(p.isSet(kMcuUdp)) + int(p.isSet(kMcuBle));
    if (links != 1) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("Name the device with exactly one of --port DEV, --udp "
                                   "HOST:PORT or --ble ADDRESS."));
    }
    bool ok = false;
    const int timeout = p.value(kMcuTimeout).toInt(&ok);
    constexpr int kMinTimeout = 50;
    if (!ok || timeout < kMinTimeout) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("--timeout takes milliseconds (at least 50)."));
    }
    std::unique_ptr<McuSession> session(new McuSession);
    session->m_timeoutMs = timeout;
    if (p.isSet(kMcuBle)) {
        if (const Status opened = session->openBle(p.value(kMcuBle)); !opened) {
            return fail(opened.error());
        }
    } else if (p.isSet(kMcuPort)) {
        const int baud = p.value(kMcuBaud).toInt(&ok);
        if (!ok || baud <= 0) {
            return fail(QStringLiteral("cli.usage"),
                        QStringLiteral("--baud takes a positive rate."));
        }
        session->m_transport = std::make_unique<smp::SerialTransport>(p.value(kMcuPort), baud);
    } else {
        const auto address = smp::parseHostPort(p.value(kMcuUdp));
        if (!address) {
            return fail(address.error());
        }
        session->m_transport = std::make_unique<smp::UdpTransport>(address->first, address->second);
    }
    if (const Status opened = session->m_transport->open(); !opened) {
        // A transport that cannot open must not linger (the BLE one would keep trying).
        session->m_transport.reset();
        return fail(opened.error());
    }
    session->m_client = std::make_unique<smp::SmpClient>(*session->m_transport);
    session->m_client->setTimeout(timeout);
    return session;
}

namespace {

// Where the ble plugin is: beside an installed otafleetctl, in a build tree, or where
// OTAFLEET_PLUGIN_DIR says (the console looks in the same places).
QStringList pluginDirectories() {
    const QDir binDir(QCoreApplication::applicationDirPath());
    QStringList candidates;
    if (const QString fromEnv = qEnvironmentVariable("OTAFLEET_PLUGIN_DIR"); !fromEnv.isEmpty()) {
        candidates.append(fromEnv);
    }
    candidates.append(binDir.filePath(QStringLiteral(OTAFLEET_INSTALLED_PLUGIN_DIR)));
    candidates.append(binDir.filePath(QStringLiteral("../plugins")));
    QStringList existing;
    for (const QString& candidate : candidates) {
        const QString clean = QDir::cleanPath(candidate);
        if (QFileInfo(clean).isDir() && !existing.contains(clean)) {
            existing.append(clean);
        }
    }
    return existing;
}

}  // namespace

Result<BlePlugin> loadBlePlugin(const QString& forWhat) {
    BlePlugin loaded;
    const QStringList directories = pluginDirectories();
    loaded.hub = std::make_unique<link::DeviceHub>(link::LinkContext{}, directories);
    auto root = loaded.hub->pluginObject(QStringLiteral("ble"));
    loaded.plugin = root ? qobject_cast<smp::SmpTransportPlugin*>(*root) : nullptr;
    if (loaded.plugin == nullptr) {
        return fail(QStringLiteral("mcu.ble-unavailable"),
                    QStringLiteral("The Bluetooth LE transport plugin was not found or does not "
                                   "load (%1; looked in: %2), so %3 cannot be reached; reinstall "
                                   "otafleet or set OTAFLEET_PLUGIN_DIR, or connect the device "
                                   "over USB serial (--port) or UDP (--udp).")
                        .arg(root ? QStringLiteral("no SMP transport in it") : root.error().message,
                             directories.isEmpty() ? QStringLiteral("nowhere")
                                                   : directories.join(QStringLiteral(", ")),
                             forWhat));
    }
    return loaded;
}

Result<QList<smp::ScannedDevice>> scanBle(int milliseconds) {
    auto loaded = loadBlePlugin(QStringLiteral("Bluetooth LE devices"));
    if (!loaded) {
        return fail(loaded.error());
    }
    auto root = loaded->hub->pluginObject(QStringLiteral("ble"));
    auto* discovery = root ? qobject_cast<link::DiscoveryPlugin*>(*root) : nullptr;
    const std::unique_ptr<link::DeviceScanner> scanner =
        discovery != nullptr ? discovery->createScanner() : nullptr;
    if (!scanner) {
        return fail(QStringLiteral("mcu.ble-unavailable"),
                    QStringLiteral("The Bluetooth LE transport plugin offers no scanner; "
                                   "reinstall otafleet."));
    }
    QList<smp::ScannedDevice> devices;
    std::optional<std::optional<Error>> outcome;
    QEventLoop loop;
    QObject::connect(scanner.get(), &smp::DeviceScanner::found, &loop,
                     [&devices](const smp::ScannedDevice& device) { devices.append(device); });
    QObject::connect(scanner.get(), &smp::DeviceScanner::finished, &loop,
                     [&outcome, &loop](const std::optional<Error>& error) {
                         outcome = error;
                         loop.quit();
                     });
    if (const Status started = scanner->start(milliseconds); !started) {
        return fail(started.error());
    }
    // The scanner ends by itself; this only guards against a stack that never says so.
    constexpr int kGraceMs = 5000;
    QTimer::singleShot(milliseconds + kGraceMs, &loop, &QEventLoop::quit);
    loop.exec();
    scanner->stop();
    if (!outcome) {
        return fail(QStringLiteral("ble.scan-failed"),
                    QStringLiteral("The Bluetooth LE scan did not end within %1 s; restart "
                                   "bluetoothd and try again.")
                        .arg((milliseconds + kGraceMs) / 1000));
    }
    if (*outcome) {
        return fail(**outcome);
    }
    return devices;
}

Status McuSession::openBle(const QString& address) {
    auto loaded = loadBlePlugin(address);
    if (!loaded) {
        return fail(loaded.error());
    }
    auto transport = loaded->plugin->createTransport(address);
    if (!transport) {
        return fail(transport.error());
    }
    m_hub = std::move(loaded->hub);
    m_transport = std::move(*transport);
    return {};
}

Result<QCborMap> McuSession::call(const smp::Request& request) {
    std::optional<Result<QCborMap>> answer;
    QEventLoop loop;
    m_client->call(request, [&](Result<QCborMap> body) {
        answer = std::move(body);
        loop.quit();
    });
    if (!answer) {
        loop.exec();
    }
    return std::move(*answer);
}

Status McuSession::waitForDevice(int timeoutMs) {
    constexpr int kPollMs = 200;
    QElapsedTimer clock;
    clock.start();
    m_client->setTimeout(kPollMs);
    m_client->setRetries(0);
    Error last{QStringLiteral("mcu.device-gone"), {}};
    while (clock.elapsed() < timeoutMs) {
        const auto echo = call(smp::os::echo(QStringLiteral("otafleet")));
        if (echo && smp::os::parseEcho(*echo)) {
            m_client->setTimeout(m_timeoutMs);
            m_client->setRetries(2);
            return {};
        }
        if (!echo && echo.error().code == QStringLiteral("smp.link-lost")) {
            m_transport->close();  // a USB port vanishes on reset; try it again until it is back
            QThread::msleep(kPollMs);
            (void)m_transport->open();
        }
        last = echo ? last : echo.error();
    }
    return fail(QStringLiteral("mcu.device-gone"),
                QStringLiteral("The device did not come back within %1 s after its reset (%2); "
                               "check that it boots.")
                    .arg(timeoutMs / 1000)
                    .arg(last.message));
}

QJsonArray imagesJson(const QList<smp::image::SlotState>& slots) {
    QJsonArray out;
    for (const auto& slot : slots) {
        out.append(QJsonObject{{QStringLiteral("image"), slot.image},
                               {QStringLiteral("slot"), slot.slot},
                               {QStringLiteral("version"), slot.version},
                               {QStringLiteral("hash"), QString::fromLatin1(slot.hash.toHex())},
                               {QStringLiteral("bootable"), slot.bootable},
                               {QStringLiteral("active"), slot.active},
                               {QStringLiteral("confirmed"), slot.confirmed},
                               {QStringLiteral("pending"), slot.pending},
                               {QStringLiteral("permanent"), slot.permanent}});
    }
    return out;
}

QString imagesText(const QList<smp::image::SlotState>& slots) {
    if (slots.isEmpty()) {
        return QStringLiteral("No image in any slot.");
    }
    QStringList lines;
    for (const auto& slot : slots) {
        QStringList flags;
        const std::pair<bool, const char*> all[] = {{slot.active, "active"},
                                                    {slot.confirmed, "confirmed"},
                                                    {slot.pending, "pending"},
                                                    {slot.permanent, "permanent"}};
        for (const auto& [set, name] : all) {
            if (set) {
                flags.append(QString::fromLatin1(name));
            }
        }
        lines.append(QStringLiteral("slot %1: %2  %3  %4")
                         .arg(slot.slot)
                         .arg(slot.version, QString::fromLatin1(slot.hash.toHex()),
                              flags.join(QLatin1Char(','))));
    }
    return lines.join(QLatin1Char('\n'));
}

}  // namespace otafleet::cli
