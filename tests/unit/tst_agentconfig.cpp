// AgentConfig: every problem of a broken agent.conf is reported with its line number, and good
// files parse into the values the agent uses.
#include "agent/AgentConfig.h"

#include <QTest>

using otafleet::agent::AgentConfig;
using otafleet::agent::BootBackend;

namespace {

QByteArray validConfig() {
    return "# device\n"
           "[device]\n"
           "id = dev-1\n"
           "name = bench\n"
           "model = devkit\n"
           "hardware = rev-a\n"
           "\n"
           "[agent]\n"
           "listen = 127.0.0.1:7443\n"
           "[slots]\n"
           "slot_a = slots/a.img\n"
           "slot_b = /abs/b.img\n"
           "[boot]\n"
           "backend = file\n"
           "[trust]\n"
           "bundle_root = trust/root.pem\n"
           "[tls]\n"
           "certificate = tls/agent.pem\n"
           "key = tls/agent.key\n"
           "operator_ca = trust/operators.pem\n";
}

}  // namespace

class TestAgentConfig : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesValidFile() {
        auto config = AgentConfig::parse(validConfig(), QStringLiteral("agent.conf"),
                                         QStringLiteral("/etc/otafleet"));
        QVERIFY2(config, config ? "" : qPrintable(config.error().toString()));
        QCOMPARE(config->deviceId, QStringLiteral("dev-1"));
        QCOMPARE(config->listenHost, QStringLiteral("127.0.0.1"));
        QCOMPARE(config->listenPort, quint16(7443));
        QCOMPARE(config->slotA, QStringLiteral("/etc/otafleet/slots/a.img"));
        QCOMPARE(config->slotB, QStringLiteral("/abs/b.img"));
        QCOMPARE(config->trialTries, 3);  // default
        QCOMPARE(config->dataDir, QStringLiteral("/etc/otafleet"));
        QCOMPARE(config->maxBundleSize, AgentConfig::kDefaultMaxBundleSize);
        QCOMPARE(config->bootBackend, BootBackend::File);
        QVERIFY(config->healthCommand.isEmpty());
        QCOMPARE(config->signersRequired, 1);  // default: one trusted signer
        QByteArray text = validConfig();
        text.replace("[trust]\n", "[trust]\nsigners_required = 2\n");
        auto twoPerson =
            AgentConfig::parse(text, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY2(twoPerson, twoPerson ? "" : qPrintable(twoPerson.error().toString()));
        QCOMPARE(twoPerson->signersRequired, 2);
    }

    // [server]: the dial-out address and the first-start enrolment with a one-time token.
    void parsesServerSection() {
        QByteArray text = validConfig();
        text +=
            "[server]\naddress = fleet.example:8444\nenroll_token_file = enroll.token\n"
            "enroll_station = 10.0.0.1:7600\n";
        auto config = AgentConfig::parse(text, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY2(config, config ? "" : qPrintable(config.error().toString()));
        QCOMPARE(config->serverAddress, QStringLiteral("fleet.example:8444"));
        QCOMPARE(config->enrollTokenFile, QStringLiteral("/d/enroll.token"));
        QCOMPARE(config->enrollStation, QStringLiteral("10.0.0.1:7600"));
        text.replace("enroll_station = 10.0.0.1:7600", "enroll_station = nowhere");
        auto bad = AgentConfig::parse(text, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY(!bad);
        QVERIFY2(bad.error().message.contains(QStringLiteral("agent.conf:")),
                 qPrintable(bad.error().message));
    }

    // [smp]: a serial port (or a pty the agent makes) to answer MCUmgr SMP on.
    void parsesSmpSection() {
        auto plain =
            AgentConfig::parse(validConfig(), QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY(plain);
        QVERIFY(plain->smpSerial.isEmpty());  // no [smp]: no SMP
        auto gadget = AgentConfig::parse(validConfig() + "[smp]\nserial = /dev/ttyGS0\n",
                                         QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY2(gadget, gadget ? "" : qPrintable(gadget.error().toString()));
        QCOMPARE(gadget->smpSerial, QStringLiteral("/dev/ttyGS0"));
        QCOMPARE(gadget->smpBaud, 115200);
        auto pty = AgentConfig::parse(validConfig() + "[smp]\nserial = pty\nbaud = 0\n",
                                      QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY2(pty, pty ? "" : qPrintable(pty.error().toString()));
        QCOMPARE(pty->smpSerial, QStringLiteral("pty"));
        QCOMPARE(pty->smpBaud, 0);
    }

    void reportsBadLines_data() {
        QTest::addColumn<QByteArray>("extra");
        QTest::addColumn<QString>("expected");
        // The valid file has 20 lines, so an appended line is line 21 (22 after a section).
        QTest::newRow("typo with suggestion")
            << QByteArray("[boot]\ntries = 4\n")
            << QStringLiteral("agent.conf:22: unknown key 'tries'; did you mean 'trial_tries'?");
        QTest::newRow("close misspelling")
            << QByteArray("[health]\ncomand = /bin/true\n")
            << QStringLiteral("agent.conf:22: unknown key 'comand'; did you mean 'command'?");
        QTest::newRow("unknown key without suggestion")
            << QByteArray("[health]\nzebra = 1\n")
            << QStringLiteral("agent.conf:22: unknown key 'zebra' in [health]");
        QTest::newRow("unknown section")
            << QByteArray("[network]\n")
            << QStringLiteral("agent.conf:21: unknown section [network]");
        QTest::newRow("missing equals") << QByteArray("[health]\njust words\n")
                                        << QStringLiteral("agent.conf:22: expected 'key = value'");
        QTest::newRow("unterminated section")
            << QByteArray("[health\n") << QStringLiteral("agent.conf:21: section header lacks");
        QTest::newRow("tries out of range")
            << QByteArray("[boot]\ntrial_tries = 0\n")
            << QStringLiteral("agent.conf:22: 'trial_tries' must be a whole number from 1 to 100");
        QTest::newRow("metrics interval out of range")
            << QByteArray("[telemetry]\nmetrics_interval = 86401\n")
            << QStringLiteral(
                   "agent.conf:22: 'metrics_interval' must be seconds from 0 (off) to "
                   "86400");
        QTest::newRow("signers out of range")
            << QByteArray("[trust]\nsigners_required = 17\n")
            << QStringLiteral(
                   "agent.conf:22: 'signers_required' must be a whole number from 1 "
                   "to 16");
        QTest::newRow("duplicate")
            << QByteArray("[device]\nid = again\n")
            << QStringLiteral("agent.conf:22: 'id' is set twice in [device]");
        QTest::newRow("bad timeout")
            << QByteArray("[health]\ntimeout = 0\n")
            << QStringLiteral("agent.conf:22: 'timeout' must be seconds from 1 to 3600");
        QTest::newRow("bad size")
            << QByteArray("[agent]\nmax_bundle_size = lots\n")
            << QStringLiteral("agent.conf:22: 'max_bundle_size' must be a positive number");
        QTest::newRow("relative serial port")
            << QByteArray("[smp]\nserial = ttyGS0\n")
            << QStringLiteral("agent.conf:22: 'serial' must be 'pty' or the absolute path");
        QTest::newRow("odd baud rate")
            << QByteArray("[smp]\nserial = /dev/ttyGS0\nbaud = 12345\n")
            << QStringLiteral("agent.conf:23: 'baud' must be a standard rate");
        QTest::newRow("unpaced tty")
            << QByteArray("[smp]\nserial = /dev/ttyGS0\nbaud = 0\n")
            << QStringLiteral("[smp] 'baud = 0' (no pacing) applies to 'serial = pty' only");
        QTest::newRow("overlong value")
            << QByteArray("[health]\ncommand = ") + QByteArray(5000, 'x') + "\n"
            << QStringLiteral("agent.conf:22: value of 'command' is longer than 4096");
    }
    void reportsBadLines() {
        QFETCH(QByteArray, extra);
        QFETCH(QString, expected);
        auto config = AgentConfig::parse(validConfig() + extra, QStringLiteral("agent.conf"),
                                         QStringLiteral("/d"));
        QVERIFY(!config);
        QCOMPARE(config.error().code, QStringLiteral("agent.config-invalid"));
        QVERIFY2(config.error().message.contains(expected), qPrintable(config.error().message));
    }

    void reportsEveryErrorAtOnce() {
        const QByteArray text = "[device]\nid = x\nhardwre = rev-a\n[agent]\nlisten = nowhere\n";
        auto config = AgentConfig::parse(text, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY(!config);
        const QString m = config.error().message;
        QVERIFY2(m.contains(QStringLiteral("agent.conf:3: unknown key 'hardwre'; did you mean "
                                           "'hardware'?")),
                 qPrintable(m));
        QVERIFY2(m.contains(QStringLiteral("agent.conf:5: 'listen' must be HOST:PORT")),
                 qPrintable(m));
        QVERIFY2(m.contains(QStringLiteral("missing required key 'slot_a' in [slots]")),
                 qPrintable(m));
        QVERIFY2(m.contains(QStringLiteral("missing required key 'hardware' in [device]")),
                 qPrintable(m));
    }

    // The shipped example must always be a valid configuration.
    void exampleConfigParses() {
        auto config = AgentConfig::load(
            QStringLiteral(OTAFLEET_SOURCE_DIR "/resources/agent/agent.conf.example"));
        QVERIFY2(config, config ? "" : qPrintable(config.error().toString()));
        QCOMPARE(config->trialTries, 3);
        QVERIFY(!config->healthCommand.isEmpty());
    }

    void refusesOversizedInput() {
        QByteArray many;
        for (int i = 0; i < 600; ++i)
            many += "# comment\n";
        auto lines = AgentConfig::parse(validConfig() + many, QStringLiteral("agent.conf"),
                                        QStringLiteral("/d"));
        QVERIFY(!lines);
        QVERIFY(lines.error().message.contains(QStringLiteral("too many lines")));
        auto big = AgentConfig::parse(QByteArray(AgentConfig::kMaxFileSize + 1, '#'),
                                      QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY(!big);
        QCOMPARE(big.error().code, QStringLiteral("agent.config-invalid"));
    }

    void acceptsOtherBackendNames() {
        auto config =
            AgentConfig::parse(validConfig() + "[health]\ncommand = /bin/true\ntimeout = 5\n",
                               QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY2(config, config ? "" : qPrintable(config.error().toString()));
        QByteArray uboot = validConfig();
        uboot.replace("backend = file", "backend = uboot");
        // uboot needs its fw_env.config, named on the config's last line.
        auto noEnv = AgentConfig::parse(uboot, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY(!noEnv);
        QVERIFY(noEnv.error().message.contains(QStringLiteral("needs 'uboot_env_config'")));
        uboot.replace("backend = uboot", "backend = uboot\nuboot_env_config = env/fw_env.config");
        auto ub = AgentConfig::parse(uboot, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY2(ub, ub ? "" : qPrintable(ub.error().toString()));
        QCOMPARE(ub->bootBackend, BootBackend::UBoot);
        QCOMPARE(ub->ubootEnvConfig, QStringLiteral("/d/env/fw_env.config"));
        QByteArray lilo = validConfig();
        lilo.replace("backend = file", "backend = lilo");
        auto bad = AgentConfig::parse(lilo, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY(!bad);
        QVERIFY(bad.error().message.contains(
            QStringLiteral("agent.conf:14: 'backend' must be one of file, uboot, grub")));
        QCOMPARE(config->healthTimeoutSeconds, 5);
    }

    // 'crl' may be repeated (one file per CA or per publication); other keys may not.
    void crlIsRepeatable() {
        QByteArray text = validConfig();
        text.replace("bundle_root = trust/root.pem",
                     "bundle_root = trust/root.pem\ncrl = trust/a.pem\ncrl = /abs/b.pem");
        auto config = AgentConfig::parse(text, QStringLiteral("agent.conf"), QStringLiteral("/d"));
        QVERIFY2(config, config ? "" : qPrintable(config.error().toString()));
        QCOMPARE(config->crlFiles,
                 QStringList({QStringLiteral("/d/trust/a.pem"), QStringLiteral("/abs/b.pem")}));
        QVERIFY(
            AgentConfig::parse(validConfig(), QStringLiteral("agent.conf"), QStringLiteral("/d"))
                ->crlFiles.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAgentConfig)
#include "tst_agentconfig.moc"
