// The serial and udp transport plugins, loaded by DeviceHub from the build tree exactly as the
// console loads them, against a real otafleet-mcusim process on a real pty and UDP socket:
// refresh, update (upload, test, reset, confirm) with progress, commit, rollback.
#include "CliRun.h"
#include "McuSimProcess.h"

#include "link/DeviceHub.h"

#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using otafleet::link::DeviceLink;
using otafleet::link::DeviceSnapshot;
using otafleet::link::LinkOperation;
using otafleet::link::UpdatePhase;
using otafleet::test::McuSimProcess;

namespace {

QByteArray firmware(quint32 seed) {
    QByteArray bytes(24 * 1024, '\0');
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        bytes[i] = char(seed);
    }
    return bytes;
}

struct Outcome {
    std::optional<Error> error;
    DeviceSnapshot snapshot;
    QList<UpdatePhase> phases;
};

// Runs one operation on `link` and waits for its finished().
Outcome await(DeviceLink& link, const std::function<Status()>& start) {
    QSignalSpy finished(&link, &DeviceLink::finished);
    QSignalSpy info(&link, &DeviceLink::infoReceived);
    QSignalSpy progress(&link, &DeviceLink::progress);
    Outcome out;
    if (const Status started = start(); !started) {
        out.error = started.error();
        return out;
    }
    if (!finished.wait(30'000)) {
        out.error = Error{QStringLiteral("test.timeout"), QStringLiteral("no finished()")};
        return out;
    }
    out.error = finished.first().at(1).value<std::optional<Error>>();
    if (!info.isEmpty()) {
        out.snapshot = info.last().first().value<DeviceSnapshot>();
    }
    for (const auto& args : progress) {
        const auto phase = args.first().value<UpdatePhase>();
        if (out.phases.isEmpty() || out.phases.last() != phase) {
            out.phases.append(phase);
        }
    }
    return out;
}

QByteArray why(const Outcome& outcome) {
    return outcome.error ? outcome.error->toString().toUtf8() : QByteArray();
}

}  // namespace

class TestMcuLinks : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        QVERIFY(!openssl.isEmpty());
        const QString key = m_dir.filePath(QStringLiteral("key.pem"));
        QCOMPARE(test::runProcess(openssl, test::argList({"genpkey", "-algorithm", "EC", "-pkeyopt",
                                                          "ec_paramgen_curve:P-256", "-out", key}))
                     .exitCode,
                 0);
        QCOMPARE(
            test::runProcess(openssl, test::argList({"pkey", "-in", key, "-pubout", "-out",
                                                     m_dir.filePath(QStringLiteral("pub.pem"))}))
                .exitCode,
            0);
        for (const auto& [version, seed] : {std::pair{"1.0.0", 1}, std::pair{"2.0.0", 2}}) {
            const QString fw = m_dir.filePath(QStringLiteral("fw%1").arg(seed));
            QFile f(fw);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(firmware(quint32(seed)));
            f.close();
            const auto run = test::ctl({"mcuboot", "sign", fw, "--key", key, "--version", version,
                                        "--header-size", "0x200", "--slot-size", "0x20000",
                                        "--pad-header", "-o", image(seed)});
            QVERIFY2(run.exitCode == 0, run.err.constData());
        }
    }

    void transportsComeFromMetadata() {
        link::DeviceHub hub({}, {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        QStringList schemes;
        for (const auto& t : hub.transports()) {
            schemes.append(t.scheme);
        }
        QVERIFY2(
            schemes.contains(QStringLiteral("serial")) && schemes.contains(QStringLiteral("udp")),
            qPrintable(schemes.join(QLatin1Char(','))));
        QVERIFY(!hub.isLoaded(QStringLiteral("serial")));
        const auto bad = hub.open(QStringLiteral("udp://localhost:1337"));
        QVERIFY(!bad.has_value());
        QCOMPARE(bad.error().code, QStringLiteral("link.bad-uri"));
    }

    void updateCommitRollbackOverPtyAndUdp() {
        McuSimProcess sim;
        QVERIFY2(
            sim.start(
                m_dir.filePath(QStringLiteral("device")), m_dir.filePath(QStringLiteral("pub.pem")),
                {QStringLiteral("--pty"), QStringLiteral("--udp"), QStringLiteral("127.0.0.1:0")}),
            qPrintable(sim.error()));
        link::DeviceHub hub({}, {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto serial =
            hub.open(QStringLiteral("serial://") + sim.pty() + QStringLiteral("?baud=115200"));
        QVERIFY2(serial.has_value(), serial ? "" : qPrintable(serial.error().toString()));
        DeviceLink& pty = **serial;

        Outcome out = await(pty, [&] { return pty.refresh(); });
        QVERIFY2(!out.error, why(out).constData());
        QVERIFY(out.snapshot.slots.isEmpty());

        // Upload, test boot, confirm: the whole update, with its phases in order.
        out = await(pty, [&] { return pty.pushUpdate(image(1), {}); });
        QVERIFY2(!out.error, why(out).constData());
        QCOMPARE(out.phases, (QList<UpdatePhase>{UpdatePhase::Transferring, UpdatePhase::Rebooting,
                                                 UpdatePhase::Committing}));
        QCOMPARE(out.snapshot.activeSlot, QStringLiteral("primary"));
        QCOMPARE(out.snapshot.activeVersion(), QStringLiteral("1.0.0"));
        QVERIFY(!out.snapshot.trial);

        // The same device over UDP: an update that stops after the test boot, then commit.
        auto udpLink = hub.open(QStringLiteral("udp://") + sim.udp());
        QVERIFY2(udpLink.has_value(), udpLink ? "" : qPrintable(udpLink.error().toString()));
        DeviceLink& udp = **udpLink;
        link::UpdateOptions noCommit;
        noCommit.commit = false;
        out = await(udp, [&] { return udp.pushUpdate(image(2), noCommit); });
        QVERIFY2(!out.error, why(out).constData());
        QCOMPARE(out.snapshot.activeVersion(), QStringLiteral("2.0.0"));
        QVERIFY(out.snapshot.trial);
        QCOMPARE(out.snapshot.state, QStringLiteral("trial"));
        out = await(udp, [&] { return udp.commit(); });
        QVERIFY2(!out.error, why(out).constData());
        QVERIFY(!out.snapshot.trial);

        // Rollback: the other slot's 1.0.0 becomes permanent and runs after the reset.
        out = await(udp, [&] { return udp.rollback(); });
        QVERIFY2(!out.error, why(out).constData());
        QCOMPARE(out.snapshot.activeVersion(), QStringLiteral("1.0.0"));
        QVERIFY(!out.snapshot.trial);
    }

private:
    QString image(int seed) const { return m_dir.filePath(QStringLiteral("v%1.img").arg(seed)); }
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestMcuLinks)
#include "tst_mculinks.moc"
