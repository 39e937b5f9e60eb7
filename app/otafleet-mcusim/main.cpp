// otafleet-mcusim: a simulated MCUboot/Zephyr device answering MCUmgr SMP over a pseudo-terminal
// and/or UDP. Prints "pty: /dev/pts/N" and "udp: HOST:PORT" once it listens; keeps its slots in
// --dir across restarts (every write lands in the slot files at once, so SIGTERM or SIGKILL at
// any moment is a power cut, not a corruption). Exit 1 on failure, 2 on bad usage, 3 when a
// fault hook dropped the link (the "unplugged" device is gone).
#include "common/AtomicFile.h"
#include "crypto/DeviceIdentity.h"
#include "mcusim/SimServers.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QHostAddress>

#include <cstdio>

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitLinkDropped = 3;
constexpr qint64 kMaxKeyPem = 64 * 1024;

int failWith(const otafleet::Error& error) {
    std::fprintf(stderr, "otafleet-mcusim: %s\n", qPrintable(error.toString()));
    return kExitFailure;
}

int usage(const QString& message) {
    std::fprintf(stderr, "otafleet-mcusim: %s [mcusim.usage]\nTry 'otafleet-mcusim --help'.\n",
                 qPrintable(message));
    return kExitUsage;
}

// A byte offset from an option, or else from an environment variable (so scripts that start the
// simulator indirectly can still arm a fault); -1 when neither is set.
std::optional<qint64> faultOffset(const QCommandLineParser& p, const QCommandLineOption& option,
                                  const char* env) {
    QString text = p.value(option);
    if (text.isEmpty()) {
        text = qEnvironmentVariable(env);
    }
    if (text.isEmpty()) {
        return -1;
    }
    bool ok = false;
    const qint64 value = text.toLongLong(&ok);
    return ok && value > 0 ? std::optional<qint64>(value) : std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("otafleet-mcusim"));
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "A simulated MCUboot/Zephyr device serving MCUmgr SMP over a pseudo-terminal (--pty) "
        "and/or UDP (--udp). Slots live in DIR across restarts; uploaded images are checked "
        "against the ECDSA P-256 key in PUB.pem as MCUboot would."));
    p.addHelpOption();
    const QCommandLineOption dir(QStringLiteral("dir"), QStringLiteral("Slot directory."),
                                 QStringLiteral("DIR"));
    const QCommandLineOption key(QStringLiteral("key"),
                                 QStringLiteral("Public key PEM that images must be signed with."),
                                 QStringLiteral("PUB.pem"));
    const QCommandLineOption pty(QStringLiteral("pty"),
                                 QStringLiteral("Serve SMP serial framing on a new pty."));
    const QCommandLineOption udp(QStringLiteral("udp"),
                                 QStringLiteral("Serve SMP over UDP on HOST:PORT (port 0: any)."),
                                 QStringLiteral("HOST:PORT"));
    const QCommandLineOption baud(QStringLiteral("baud"),
                                  QStringLiteral("Pace pty output at N baud (8N1); 0: unpaced."),
                                  QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption serial(
        QStringLiteral("serial"),
        QStringLiteral("Serial number the device reports (provisioning group) "
                       "and puts in its certificate request."),
        QStringLiteral("SN"), QStringLiteral("SIM0001"));
    const QCommandLineOption slotSize(QStringLiteral("slot-size"),
                                      QStringLiteral("Bytes per slot (default 1 MiB)."),
                                      QStringLiteral("N"), QStringLiteral("1048576"));
    const QCommandLineOption bufSize(QStringLiteral("buf-size"),
                                     QStringLiteral("MCUmgr buf_size: largest request accepted."),
                                     QStringLiteral("N"), QStringLiteral("2048"));
    const QCommandLineOption bufCount(QStringLiteral("buf-count"),
                                      QStringLiteral("MCUmgr buf_count: requests held at once."),
                                      QStringLiteral("N"), QStringLiteral("4"));
    const QCommandLineOption dropAt(
        QStringLiteral("drop-at"),
        QStringLiteral("Fault: exit (unplugged) when an upload reaches OFFSET bytes "
                       "(or env OTAFLEET_MCUSIM_DROP_AT)."),
        QStringLiteral("OFFSET"));
    const QCommandLineOption resetAt(
        QStringLiteral("reset-at"),
        QStringLiteral("Fault: reset without answering when an upload reaches OFFSET bytes "
                       "(or env OTAFLEET_MCUSIM_RESET_AT)."),
        QStringLiteral("OFFSET"));
    p.addOptions({dir, key, pty, udp, baud, serial, slotSize, bufSize, bufCount, dropAt, resetAt});
    p.process(app);

    if (!p.isSet(dir) || !p.isSet(key) || (!p.isSet(pty) && !p.isSet(udp))) {
        return usage(QStringLiteral("needs --dir DIR --key PUB.pem and --pty and/or --udp"));
    }
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
    const int baudRate = p.value(baud).toInt(&ok1);
    const qint64 slotBytes = p.value(slotSize).toLongLong(&ok2);
    const int bufBytes = p.value(bufSize).toInt(&ok3);
    const int bufN = p.value(bufCount).toInt(&ok4);
    const auto drop = faultOffset(p, dropAt, "OTAFLEET_MCUSIM_DROP_AT");
    const auto reset = faultOffset(p, resetAt, "OTAFLEET_MCUSIM_RESET_AT");
    constexpr int kMinBuffer = 64;
    if (!otafleet::crypto::isValidDeviceId(p.value(serial))) {
        return usage(QStringLiteral("--serial takes 1 to 64 letters, digits, '.', '_' or '-'"));
    }
    if (!ok1 || baudRate < 0 || !ok2 || slotBytes <= 0 || !ok3 || bufBytes < kMinBuffer ||
        bufBytes > otafleet::smp::kMaxSerialPacket || !ok4 || bufN < 1 || !drop || !reset) {
        return usage(
            QStringLiteral("--baud, --slot-size, --buf-size (64..16384), --buf-count, "
                           "--drop-at and --reset-at take positive numbers"));
    }
    const auto pem = otafleet::readFileBounded(p.value(key), kMaxKeyPem);
    if (!pem) {
        return failWith(pem.error());
    }
    otafleet::mcusim::SimOptions options;
    options.dir = p.value(dir);
    options.publicKeyPem = *pem;
    options.serialNumber = p.value(serial);
    options.slotSize = slotBytes;
    options.bufSize = bufBytes;
    options.bufCount = bufN;
    options.dropAtOffset = *drop;
    options.resetAtOffset = *reset;
    auto device = otafleet::mcusim::SimDevice::open(options);
    if (!device) {
        return failWith(device.error());
    }

    const auto dropped = [] {
        std::fprintf(stderr, "otafleet-mcusim: link dropped by fault hook\n");
        QCoreApplication::exit(kExitLinkDropped);
    };
    otafleet::mcusim::SimPtyServer ptyServer(*device, baudRate);
    otafleet::mcusim::SimUdpServer udpServer(*device);
    QObject::connect(&ptyServer, &otafleet::mcusim::SimPtyServer::linkDropped, &app, dropped);
    QObject::connect(&udpServer, &otafleet::mcusim::SimUdpServer::linkDropped, &app, dropped);
    std::printf("serial: %s\n", qPrintable(p.value(serial)));
    if (p.isSet(pty)) {
        const auto path = ptyServer.start();
        if (!path) {
            return failWith(path.error());
        }
        std::printf("pty: %s\n", qPrintable(*path));
    }
    if (p.isSet(udp)) {
        const QString spec = p.value(udp);
        const qsizetype colon = spec.lastIndexOf(QLatin1Char(':'));
        bool portOk = false;
        const uint port = colon > 0 ? spec.mid(colon + 1).toUInt(&portOk) : 0;
        QString host = colon > 0 ? spec.left(colon) : QString();
        host.remove(QLatin1Char('[')).remove(QLatin1Char(']'));
        const QHostAddress address(host);
        if (!portOk || port > 0xffff || address.isNull()) {
            return usage(QStringLiteral("--udp takes HOST:PORT with a numeric address"));
        }
        const auto bound = udpServer.start(address, quint16(port));
        if (!bound) {
            return failWith(bound.error());
        }
        const QString shown = bound->first.protocol() == QAbstractSocket::IPv6Protocol
                                  ? QStringLiteral("[%1]").arg(bound->first.toString())
                                  : bound->first.toString();
        std::printf("udp: %s:%u\n", qPrintable(shown), unsigned(bound->second));
    }
    std::fflush(stdout);
    return app.exec();
}
