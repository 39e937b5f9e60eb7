// Fault-injection sweep: the real otafleet-agent is killed with SIGKILL (its own crash hooks,
// OTAFLEET_AGENT_CRASH_AT) at every state-changing step of an update cycle — install, trial boot,
// health check and revert, commit, rollback, a zstd-compressed install and a zstd-patch delta
// install (decoded from the active slot into the inactive one); every fsync/rename boundary of
// every boot-state store and random byte offsets in the middle of every kind of slot write (raw,
// zstd, delta) — then booted again. Each outcome must boot a slot whose bytes match a signed
// manifest, and a completed commit must survive.
// Runs on the file backend and on uboot/grub with the real tools. Also: a full disk (/dev/full as
// slot B) fails the install cleanly and keeps slot A.
#include "AgentTestBase.h"
#include "TestBundles.h"

#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QStandardPaths>

#include <random>

namespace {

struct Step {
    QString name;
    QStringList args;        // after "offline --config agent.conf"
    bool unhealthy = false;  // the health command fails during this step
    bool install = false;
    quint64 commits = 0;  // the security version this step commits, 0 if it commits nothing
};

struct RunResult {
    bool crashed = false;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QMap<QByteArray, QByteArray> state;  // parsed "otafleet-agent: state k=v ..." line
};

struct Injection {
    int step;
    QByteArray spec;  // POINT:N
};

void copyTree(const QString& from, const QString& to) {
    QDir().mkpath(to);
    QDirIterator it(from, QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QString target = to + path.mid(from.size());
        if (it.fileInfo().isDir())
            QDir().mkpath(target);
        else
            QFile::copy(path, target);
    }
}

}  // namespace

class TestFaultSweep : public agenttest::AgentTestBase {
    Q_OBJECT

private:
    QStringList m_bundles;                // 1.1.0 .. 1.4.0 full, then the delta to 1.5.0
    QMap<QByteArray, QByteArray> m_hash;  // version -> payload SHA-256 (factory added per device)
    QMap<QByteArray, quint64> m_security{{"1.0.0", 1}};  // version -> security version
    QList<Step> m_steps;
    int m_rawCycle = 0;  // m_steps up to here install raw payloads only
    static constexpr qint64 kPayloadSize = 64 * 1024;

    // The security version committed by the steps before `step` (0: none).
    quint64 committedBefore(int step) const {
        quint64 floor = 0;
        for (int k = 0; k < step; ++k)
            floor = std::max(floor, m_steps[k].commits);
        return floor;
    }
    // What a kill at `inj` must never lose: every earlier commit, and this step's own once its
    // store returned.
    quint64 committedFloor(const Injection& inj) const {
        const quint64 floor = committedBefore(inj.step);
        return inj.spec.startsWith("commit-stored") ? std::max(floor, m_steps[inj.step].commits)
                                                    : floor;
    }

    // A private copy of the binary: the shared build dir may relink it during the sweep.
    QString agentBin() const { return m_tmp.filePath(QStringLiteral("otafleet-agent")); }

    RunResult runAgent(const QString& dir, const QStringList& args, const QByteArray& crashAt,
                       const QString& path = {}) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (!path.isEmpty())
            env.insert(QStringLiteral("PATH"), path);
        env.remove(QStringLiteral("OTAFLEET_AGENT_CRASH_AT"));
        if (!crashAt.isEmpty())
            env.insert(QStringLiteral("OTAFLEET_AGENT_CRASH_AT"), QString::fromLatin1(crashAt));
        env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("otafleet.*.debug=false"));
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(dir);
        p.start(agentBin(), QStringList{QStringLiteral("offline"), QStringLiteral("--config"),
                                        QDir(dir).filePath(QStringLiteral("agent.conf"))} +
                                args);
        RunResult r;
        if (!p.waitForFinished(30000)) {
            r.err = "did not finish: " + p.errorString().toUtf8();
            p.kill();
            p.waitForFinished();
            return r;
        }
        r.crashed = p.exitStatus() == QProcess::CrashExit;
        r.exitCode = p.exitCode();
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        for (const QByteArray& line : r.out.split('\n')) {
            if (!line.startsWith("otafleet-agent: state "))
                continue;
            for (const QByteArray& kv : line.mid(22).split(' ')) {
                const qsizetype eq = kv.indexOf('=');
                if (eq > 0)
                    r.state.insert(kv.left(eq), kv.mid(eq + 1));
            }
        }
        return r;
    }

    void setMarker(const QString& dir, bool unhealthy) {
        const QString marker = QDir(dir).filePath(QStringLiteral("unhealthy"));
        if (unhealthy) {
            QFile f(marker);
            QVERIFY(f.open(QIODevice::WriteOnly));
        } else {
            QFile::remove(marker);
        }
    }

    // A device directory set up with `backend`, a failing-on-marker health command.
    QString makeDevice(const QString& name, const QString& backend) {
        const QString dir = m_tmp.filePath(name);
        QProcess setup;
        setup.setProcessChannelMode(QProcess::MergedChannels);
        setup.start(agentBin(),
                    {QStringLiteral("setup"), QStringLiteral("--dir"), dir, QStringLiteral("--pki"),
                     m_pki->pkiDir, QStringLiteral("--listen"), QStringLiteral("127.0.0.1:7999"),
                     QStringLiteral("--boot-backend"), backend, QStringLiteral("--slot-size"),
                     QStringLiteral("1048576")});
        if (!setup.waitForFinished(60000) || setup.exitCode() != 0) {
            qWarning().noquote() << setup.readAll();
            return {};
        }
        QFile conf(QDir(dir).filePath(QStringLiteral("agent.conf")));
        if (!conf.open(QIODevice::Append))
            return {};
        // [health] is the file's last section; the health check runs in the agent's directory.
        conf.write("command = test ! -e unhealthy\n");
        conf.close();
        QFile slotA(QDir(dir).filePath(QStringLiteral("slots/slot-a.img")));
        if (!slotA.open(QIODevice::ReadOnly))
            return {};
        m_hash.insert("1.0.0", crypto::Sha256::hash(slotA.readAll()));
        return dir;
    }

    // Empty when the device boots verified firmware and keeps what was committed (security
    // version `committed`, 0: nothing yet), else why not.
    QString checkBoot(const QString& dir, const RunResult& r, quint64 committed) {
        if (r.crashed || r.exitCode != 0)
            return QStringLiteral("boot failed: %1").arg(QString::fromUtf8(r.err.right(400)));
        const QByteArray booted = r.state.value("booted");
        const QByteArray version = r.state.value("version");
        if (r.state.value("state") == "error" || !m_hash.contains(version))
            return QStringLiteral("no verified slot booted: %1").arg(QString::fromUtf8(r.out));
        QFile slot(QDir(dir).filePath(booted == "A" ? QStringLiteral("slots/slot-a.img")
                                                    : QStringLiteral("slots/slot-b.img")));
        if (!slot.open(QIODevice::ReadOnly) ||
            crypto::Sha256::hash(slot.readAll()) != m_hash.value(version)) {
            return QStringLiteral("slot %1 does not hold version %2's signed payload")
                .arg(QString::fromLatin1(booted), QString::fromLatin1(version));
        }
        // A committed security version: never below it again, neither stored nor booted.
        if (r.state.value("security_version").toULongLong() < committed ||
            m_security.value(version) < committed)
            return QStringLiteral("the commit of security version %1 was lost: %2")
                .arg(committed)
                .arg(QString::fromUtf8(r.out));
        return {};
    }

private Q_SLOTS:
    void initTestCase() {
        setUpFleets();
        QVERIFY(QFile::copy(
            QDir(QStringLiteral(OTAFLEET_BIN_DIR)).filePath(QStringLiteral("otafleet-agent")),
            agentBin()));
        struct Release {
            const char* version;
            quint64 securityVersion;
            bundle::Encoding encoding;
        };
        // 1.5.0 goes out as a delta from 1.4.0 (zstd-compressed itself), made below.
        const Release releases[5] = {{"1.1.0", 2, bundle::Encoding::Raw},
                                     {"1.2.0", 3, bundle::Encoding::Raw},
                                     {"1.3.0", 3, bundle::Encoding::Raw},
                                     {"1.4.0", 4, bundle::Encoding::Zstd},
                                     {"1.5.0", 4, bundle::Encoding::Raw}};
        for (const Release& release : releases) {
            test::TestBundleSpec spec;
            spec.version = QLatin1String(release.version);
            spec.securityVersion = release.securityVersion;
            spec.payloadSize = kPayloadSize;
            spec.encoding = release.encoding;
            auto path = test::makeSignedBundle(*m_pki, m_tmp.path(), spec);
            VERIFY_OK(path);
            m_bundles << *path;
            QFile payload(test::payloadPathOf(*path));
            QVERIFY(payload.open(QIODevice::ReadOnly));
            m_hash.insert(release.version, crypto::Sha256::hash(payload.readAll()));
            m_security.insert(release.version, release.securityVersion);
        }
        // The full 1.5.0 bundle is only the delta's source; the device gets the delta.
        const QString full = m_bundles.takeLast();
        auto delta = test::makeSignedDelta(*m_pki, m_bundles.last(), full,
                                           m_tmp.filePath(QStringLiteral("delta-1.5.0.otab")));
        VERIFY_OK(delta);
        m_bundles << *delta;
        const QString install = QStringLiteral("--install");
        const QString commit = QStringLiteral("--commit");
        m_steps = {
            {QStringLiteral("install 1.1.0"), {install, m_bundles[0]}, false, true},
            {QStringLiteral("trial boot + commit"), {commit}, false, false, 2},
            {QStringLiteral("install 1.2.0"), {install, m_bundles[1]}, false, true},
            {QStringLiteral("trial boot, health fails, revert"), {}, true, false},
            {QStringLiteral("install 1.3.0"), {install, m_bundles[2]}, false, true},
            {QStringLiteral("trial boot + rollback"), {QStringLiteral("--rollback")}, false, false},
            {QStringLiteral("boot after rollback"), {}, false, false},
        };
        m_rawCycle = int(m_steps.size());
        m_steps += {
            {QStringLiteral("install 1.4.0 (zstd)"), {install, m_bundles[3]}, false, true},
            {QStringLiteral("trial boot + commit 1.4.0"), {commit}, false, false, 4},
            {QStringLiteral("install 1.5.0 (delta)"), {install, m_bundles[4]}, false, true},
        };
    }

    // The zstd and delta installs differ from raw ones only in how the slot's bytes are made,
    // not in what the boot backend stores, so the uboot and grub rows skip them (runtime).
    void sweep_data() {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<int>("minimum");
        QTest::addColumn<bool>("codecs");
        QTest::newRow("file") << QStringLiteral("file") << 300 << true;
        QTest::newRow("uboot") << QStringLiteral("uboot") << 50 << false;
        QTest::newRow("grub") << QStringLiteral("grub") << 50 << false;
    }

    void sweep() {
        QFETCH(QString, backend);
        QFETCH(int, minimum);
        QFETCH(bool, codecs);
        const int steps = codecs ? int(m_steps.size()) : m_rawCycle;
        const char* tool = backend == u"uboot"  ? "fw_setenv"
                           : backend == u"grub" ? "grub-editenv"
                                                : nullptr;
        if (tool && QStandardPaths::findExecutable(QLatin1String(tool)).isEmpty())
            QSKIP("the backend's tool is not installed (installer/install-deps.sh)");
        const QString device = makeDevice(QStringLiteral("template-") + backend, backend);
        QVERIFY(!device.isEmpty());

        // Baseline: each step once, tracing its crash points; snapshot[k] is the device before
        // step k.
        QStringList snapshots{device};
        QList<Injection> injections;
        for (int k = 0; k < steps; ++k) {
            const QString next = m_tmp.filePath(QStringLiteral("snap-%1-%2").arg(backend).arg(k));
            copyTree(snapshots.last(), next);
            setMarker(next, m_steps[k].unhealthy);
            const RunResult r = runAgent(next, m_steps[k].args, "trace");
            QVERIFY2(!r.crashed && r.exitCode == 0,
                     qPrintable(m_steps[k].name + QStringLiteral(": ") + QString::fromUtf8(r.err)));
            const quint64 floor = committedBefore(k + 1);
            QVERIFY2(checkBoot(next, r, floor).isEmpty(), qPrintable(checkBoot(next, r, floor)));
            for (const QByteArray& line : r.err.split('\n')) {
                if (line.startsWith("otafleet-agent: crash point ")) {
                    const QList<QByteArray> parts = line.mid(28).split(' ');
                    if (parts.size() == 2)
                        injections << Injection{k, parts[0] + ':' + parts[1]};
                }
            }
            snapshots << next;
        }
        QCOMPARE(snapshots.size(), steps + 1);
        const int deterministic = int(injections.size());

        // Random mid-write kills, reproducible from the printed seed.
        bool seeded = false;
        const quint32 seed = qEnvironmentVariableIntValue("OTAFLEET_SWEEP_SEED", &seeded);
        const quint32 used = seeded ? seed : QRandomGenerator::global()->generate();
        std::mt19937 random(used);
        // Offsets count the bytes the slot receives (decoded ones for zstd and delta installs).
        std::uniform_int_distribution<qint64> offset(0, kPayloadSize - 1);
        QList<int> installs;
        for (int k = 0; k < steps; ++k) {
            if (m_steps[k].install)
                installs << k;
        }
        const int extra = std::max(int(installs.size()) * 8, minimum - deterministic);
        for (int i = 0; i < extra; ++i) {
            injections << Injection{installs[i % installs.size()],
                                    "slot-write-bytes:" + QByteArray::number(offset(random))};
        }
        qInfo("fault sweep (%s): seed %u (rerun with OTAFLEET_SWEEP_SEED=%u)", qPrintable(backend),
              used, used);

        int bricked = 0;
        int notReached = 0;
        QStringList failures;
        int n = 0;
        for (const Injection& inj : injections) {
            const Step& step = m_steps[inj.step];
            const QString dir = m_tmp.filePath(QStringLiteral("run-%1-%2").arg(backend).arg(++n));
            copyTree(snapshots[inj.step], dir);
            setMarker(dir, step.unhealthy);
            const RunResult crash = runAgent(dir, step.args, inj.spec);
            if (!crash.crashed) {
                ++notReached;
                failures << QStringLiteral("%1 @ %2: not reached (exit %3)")
                                .arg(step.name, QString::fromLatin1(inj.spec))
                                .arg(crash.exitCode);
            }
            // "A completed commit is never lost": it completed in an earlier step, or its store
            // returned before the kill.
            const quint64 committed = committedFloor(inj);
            // Boots after the power cut: the first recovers; while a trial or a pending slot is
            // in play, a second boot (which uses a try or switches) must also hold. An idle,
            // committed device boots the same way every time, so one boot says it all.
            for (int boot = 0; boot < 2; ++boot) {
                const RunResult r = runAgent(dir, {}, {});
                const QString why = checkBoot(dir, r, committed);
                if (why.isEmpty() && r.state.value("trial") == "0" &&
                    r.state.value("state") == "idle" &&
                    r.state.value("primary") == r.state.value("booted"))
                    break;
                if (!why.isEmpty()) {
                    ++bricked;
                    failures << QStringLiteral("%1 @ %2, boot %3: %4")
                                    .arg(step.name, QString::fromLatin1(inj.spec))
                                    .arg(boot + 1)
                                    .arg(why);
                    break;
                }
            }
            QDir(dir).removeRecursively();
        }
        std::printf(
            "fault sweep: %d injection points, %d bricked outcomes (%s backend, %d at "
            "named points, seed %u)\n",
            int(injections.size()), bricked, qPrintable(backend), deterministic, used);
        std::fflush(stdout);
        for (const QString& f : failures.mid(0, 10))
            qWarning().noquote() << f;
        QVERIFY(injections.size() >= minimum);
        QCOMPARE(notReached, 0);
        QCOMPARE(bricked, 0);
    }

    // ENOSPC in the middle of the slot write: the install fails with agent.slot-write-failed,
    // slot A stays booted and verified, and the next install (on a good slot) works.
    void diskFull() {
        const QString device = makeDevice(QStringLiteral("diskfull"), QStringLiteral("file"));
        QVERIFY(!device.isEmpty());
        const QString slotB = QDir(device).filePath(QStringLiteral("slots/slot-b.img"));
        QVERIFY(QFile::remove(slotB));
        QVERIFY(QFile::link(QStringLiteral("/dev/full"), slotB));
        const RunResult failed =
            runAgent(device, {QStringLiteral("--install"), m_bundles.first()}, {});
        QVERIFY2(!failed.crashed && failed.exitCode == 1, failed.err.constData());
        QVERIFY2(failed.err.contains("[agent.slot-write-failed]"), failed.err.constData());
        QCOMPARE(failed.state.value("booted"), QByteArray("A"));
        QCOMPARE(failed.state.value("primary"), QByteArray("A"));

        const RunResult boot = runAgent(device, {}, {});
        QVERIFY2(checkBoot(device, boot, 0).isEmpty(), qPrintable(checkBoot(device, boot, 0)));
        QCOMPARE(boot.state.value("booted"), QByteArray("A"));
        QCOMPARE(boot.state.value("version"), QByteArray("1.0.0"));
        QCOMPARE(boot.state.value("state"), QByteArray("idle"));

        QVERIFY(QFile::remove(slotB));
        const RunResult retry =
            runAgent(device, {QStringLiteral("--install"), m_bundles.first()}, {});
        QVERIFY2(retry.exitCode == 0, retry.err.constData());
        QCOMPARE(retry.state.value("state"), QByteArray("pending-reboot"));
        const RunResult trial = runAgent(device, {}, {});
        QCOMPARE(trial.state.value("booted"), QByteArray("B"));
        QCOMPARE(trial.state.value("version"), QByteArray("1.1.0"));
    }

    // A backend whose tool fails names the tool and the package, with a stable code.
    void brokenEnvironment() {
        if (QStandardPaths::findExecutable(QStringLiteral("grub-editenv")).isEmpty() ||
            QStandardPaths::findExecutable(QStringLiteral("fw_printenv")).isEmpty())
            QSKIP("grub-editenv or fw_printenv is not installed");
        const QString uboot = makeDevice(QStringLiteral("broken-uboot"), QStringLiteral("uboot"));
        QVERIFY(!uboot.isEmpty());
        const RunResult missing = runAgent(uboot, {}, {}, m_tmp.filePath(QStringLiteral("no-bin")));
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("fw_printenv") && missing.err.contains("libubootenv-tool") &&
                     missing.err.contains("[agent.boot-tool-missing]"),
                 missing.err.constData());
        // Both env copies damaged: fw_printenv refuses, and the agent says which tool failed.
        for (const char* copy : {"state/fw_env-a.env", "state/fw_env-b.env"}) {
            QFile f(QDir(uboot).filePath(QLatin1String(copy)));
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.write("garbage");
        }
        const RunResult damaged = runAgent(uboot, {}, {});
        QCOMPARE(damaged.exitCode, 1);
        QVERIFY2(damaged.err.contains("[agent.boot-tool-failed]"), damaged.err.constData());

        const QString device = makeDevice(QStringLiteral("broken-grub"), QStringLiteral("grub"));
        QVERIFY(!device.isEmpty());
        for (const char* block : {"state/grubenv", "state/grubenv.b"}) {
            QFile f(QDir(device).filePath(QLatin1String(block)));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("garbage");
        }
        const RunResult r = runAgent(device, {}, {});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("[agent.state-corrupt]"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestFaultSweep)
#include "tst_faultsweep.moc"
