// The factory station end to end: eight real otafleet-mcusim processes on eight real
// pseudo-terminals (named through symlinks, as udev names USB ports under /dev/serial/by-id),
// the real otafleetctl station run with a device CA in a real SoftHSM token, and a real SQLite
// traceability file. Two units fail on purpose: one whose bootloader key refuses the image (bad
// image check) and one whose link drops mid-upload (unplugged). The others must pass, every
// record must be complete, and every certificate stored in a unit must chain to the device CA
// and certify the key the unit keeps.
#include "CliRun.h"
#include "McuSimProcess.h"
#include "TestPki.h"

#include "crypto/DeviceIdentity.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace otafleet;
using otafleet::test::ctl;
using otafleet::test::McuSimProcess;
using otafleet::test::ProcessRun;

namespace {

constexpr int kUnits = 8;
constexpr qsizetype kFirmwareSize = 24 * 1024;
const QString kBadKeyUnit = QStringLiteral("SN-BADKEY");
const QString kUnpluggedUnit = QStringLiteral("SN-UNPLUG");

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

QString describe(const ProcessRun& run) {
    return QStringLiteral("exit %1\nstdout: %2\nstderr: %3")
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

bool isHex64(const QString& text) {
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    return hex.match(text).hasMatch();
}

}  // namespace

class TestStation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void eightUnitsTwoFailing();
    void reportAndImport();
    void unitPluggedInWhileRunning();
    void unitTimeoutFailsAStuckUnit();
    void badUsageAndBadImage();

private:
    QString path(const QString& name) const { return m_dir.filePath(name); }
    // Starts a simulator and names its pty `link` (a symlink in `portDir`).
    bool plug(const QString& portDir, const QString& name, const QString& key,
              const QStringList& extra);

    QTemporaryDir m_dir;
    std::optional<test::TestPki> m_pki;
    std::vector<std::unique_ptr<McuSimProcess>> m_sims;
    QString m_imageHash;
    QJsonObject m_run;  // the station's --json answer of eightUnitsTwoFailing
};

bool TestStation::plug(const QString& portDir, const QString& name, const QString& key,
                       const QStringList& extra) {
    auto sim = std::make_unique<McuSimProcess>();
    const QString dir = path(QStringLiteral("units/") + name);
    if (!sim->start(dir, key,
                    QStringList{QStringLiteral("--pty"), QStringLiteral("--serial"), name,
                                QStringLiteral("--slot-size"), QStringLiteral("131072")} +
                        extra)) {
        qWarning("%s", qPrintable(sim->error()));
        return false;
    }
    const bool linked =
        QDir().mkpath(portDir) &&
        QFile::link(sim->pty(), QDir(portDir).filePath(QStringLiteral("unit-") + name));
    m_sims.push_back(std::move(sim));
    return linked;
}

void TestStation::initTestCase() {
    QVERIFY(m_dir.isValid());
    auto pki = test::TestPki::create(m_dir.path(), true);  // device CA key in a SoftHSM token
    QVERIFY2(pki, qPrintable(pki ? QString() : pki.error().toString()));
    m_pki.emplace(std::move(*pki));
    const auto release = m_pki->pki.publicKeyPem(QStringLiteral("release"));
    QVERIFY(release);
    QVERIFY(writeFile(path(QStringLiteral("release.pub.pem")), *release));

    QByteArray firmware(kFirmwareSize, '\0');
    quint32 seed = 7;
    for (qsizetype i = 0; i < firmware.size(); ++i) {
        seed = seed * 1103515245u + 12345u;
        firmware[i] = char(seed >> 16);
    }
    QVERIFY(writeFile(path(QStringLiteral("fw.bin")), firmware));
    const ProcessRun sign =
        ctl({"mcuboot", "sign", path(QStringLiteral("fw.bin")), "--pki", m_pki->pkiDir, "--signer",
             "release", "--pin-env", test::TestPki::kPinEnv, "--version", "2.1.0", "--header-size",
             "0x200", "--slot-size", "0x20000", "--pad-header", "-o",
             path(QStringLiteral("image.bin"))});
    QVERIFY2(sign.exitCode == 0, qPrintable(describe(sign)));
    const ProcessRun verify = ctl({"mcuboot", "verify", path(QStringLiteral("image.bin")), "--key",
                                   path(QStringLiteral("release.pub.pem")), "--json"});
    QVERIFY2(verify.exitCode == 0, qPrintable(describe(verify)));
    m_imageHash =
        QJsonDocument::fromJson(verify.out).object().value(QStringLiteral("sha256")).toString();
    QVERIFY2(isHex64(m_imageHash), verify.out.constData());

    // The unit whose bootloader trusts another key.
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    QVERIFY(!openssl.isEmpty());
    QCOMPARE(test::runProcess(openssl, test::argList({"genpkey", "-algorithm", "EC", "-pkeyopt",
                                                      "ec_paramgen_curve:P-256", "-out",
                                                      path(QStringLiteral("other.key"))}))
                 .exitCode,
             0);
    QCOMPARE(test::runProcess(
                 openssl, test::argList({"pkey", "-in", path(QStringLiteral("other.key")),
                                         "-pubout", "-out", path(QStringLiteral("other.pub.pem"))}))
                 .exitCode,
             0);
}

void TestStation::eightUnitsTwoFailing() {
    const QString ports = path(QStringLiteral("line"));
    const QString good = path(QStringLiteral("release.pub.pem"));
    for (int i = 1; i <= kUnits - 2; ++i) {
        QVERIFY(plug(ports, QStringLiteral("SN-%1").arg(i, 4, 10, QLatin1Char('0')), good, {}));
    }
    QVERIFY(plug(ports, kBadKeyUnit, path(QStringLiteral("other.pub.pem")), {}));
    QVERIFY(
        plug(ports, kUnpluggedUnit, good, {QStringLiteral("--drop-at"), QStringLiteral("12000")}));
    // Another pty outside the pattern is left alone.
    QVERIFY(plug(path(QStringLiteral("elsewhere")), QStringLiteral("SN-OTHER"), good, {}));

    const ProcessRun run = ctl({"station",
                                "run",
                                "--ports",
                                ports + QStringLiteral("/unit-*"),
                                "--image",
                                path(QStringLiteral("image.bin")),
                                "--pki",
                                m_pki->pkiDir,
                                "--provision-identity",
                                "--pin-env",
                                test::TestPki::kPinEnv,
                                "--operator",
                                "Ada Lovelace",
                                "--station-id",
                                "line-1",
                                "--db",
                                path(QStringLiteral("trace.db")),
                                "--units",
                                "8",
                                "--timeout",
                                "60s",
                                "--json"});
    QVERIFY2(run.exitCode == 1, qPrintable(describe(run)));  // some units failed
    m_run = QJsonDocument::fromJson(run.out).object();
    const QJsonArray records = m_run.value(QStringLiteral("records")).toArray();
    QCOMPARE(records.size(), kUnits);
    // Progress per unit on stderr.
    QVERIFY(run.err.contains("[SN-0001]: upload"));
    QVERIFY(run.err.contains("[SN-0001]: provision"));

    const QByteArray root = test::readAll(path(QStringLiteral("pki/root-ca.pem")));
    QVERIFY(!root.isEmpty());
    const auto deviceCa =
        crypto::Certificate::loadPemFile(path(QStringLiteral("pki/ca/device-ca.pem")));
    QVERIFY(deviceCa && !deviceCa->isEmpty());
    int passed = 0;
    QStringList seen;
    for (const QJsonValue& value : records) {
        const QJsonObject r = value.toObject();
        const QString serial = r.value(QStringLiteral("serial_number")).toString();
        seen.append(serial);
        // Complete whatever the result.
        QVERIFY2(!serial.isEmpty(), QJsonDocument(r).toJson().constData());
        QCOMPARE(r.value(QStringLiteral("image_hash")).toString(), m_imageHash);
        QCOMPARE(r.value(QStringLiteral("image_version")).toString(), QStringLiteral("2.1.0+0"));
        QCOMPARE(r.value(QStringLiteral("station_id")).toString(), QStringLiteral("line-1"));
        QCOMPARE(r.value(QStringLiteral("operator")).toString(), QStringLiteral("Ada Lovelace"));
        QVERIFY(r.value(QStringLiteral("port")).toString().startsWith(QStringLiteral("/dev/pts/")));
        QVERIFY(!r.value(QStringLiteral("id")).toString().isEmpty());
        const QDateTime started = QDateTime::fromString(
            r.value(QStringLiteral("started_at")).toString(), Qt::ISODateWithMs);
        const QDateTime finished = QDateTime::fromString(
            r.value(QStringLiteral("finished_at")).toString(), Qt::ISODateWithMs);
        QVERIFY(started.isValid() && finished.isValid() && started <= finished);
        const QString result = r.value(QStringLiteral("result")).toString();
        if (serial == kBadKeyUnit || serial == kUnpluggedUnit) {
            QCOMPARE(result, QStringLiteral("fail"));
            QCOMPARE(r.value(QStringLiteral("failed_stage")).toString(), QStringLiteral("upload"));
            QVERIFY(r.value(QStringLiteral("cert_fingerprint")).toString().isEmpty());
            const QString code = r.value(QStringLiteral("failure_code")).toString();
            const QString reason = r.value(QStringLiteral("failure_reason")).toString();
            if (serial == kBadKeyUnit) {
                // The unit's MCUboot check refused the signature, and says so.
                QVERIFY2(code.startsWith(QStringLiteral("smp.image.")), qPrintable(code));
                QVERIFY2(reason.contains(QStringLiteral("mcuboot.")), qPrintable(reason));
            } else {
                QCOMPARE(code, QStringLiteral("smp.link-lost"));
                QVERIFY2(reason.contains(QStringLiteral("went away")), qPrintable(reason));
            }
            continue;
        }
        QCOMPARE(result, QStringLiteral("pass"));
        ++passed;
        QVERIFY(r.value(QStringLiteral("failure_code")).toString().isEmpty());
        // The certificate in the unit chains to the device CA, names the unit and certifies
        // the key the unit keeps; the record carries its fingerprint.
        const QString unitDir = path(QStringLiteral("units/") + serial);
        const QByteArray chain = test::readAll(unitDir + QStringLiteral("/identity.pem"));
        QVERIFY2(!chain.isEmpty(), qPrintable(serial));
        const auto key = crypto::DeviceKey::loadFile(unitDir + QStringLiteral("/identity.key"));
        QVERIFY(key);
        crypto::DeviceIdentityCheck check;
        check.chain.rootPem = root;
        check.chain.purpose = crypto::ChainPurpose::TlsClient;
        check.deviceId = serial;
        check.key = key->evpKey();
        const auto leaf = crypto::verifyDeviceIdentity(chain, check);
        QVERIFY2(leaf, qPrintable(leaf ? QString() : leaf.error().toString()));
        QCOMPARE(leaf->issuer(), deviceCa->first().subject());
        QCOMPARE(leaf->sha256Fingerprint().toLower(),
                 r.value(QStringLiteral("cert_fingerprint")).toString());
    }
    QCOMPARE(passed, kUnits - 2);
    QVERIFY(!seen.contains(QStringLiteral("SN-OTHER")));
    const QJsonObject summary = m_run.value(QStringLiteral("summary")).toObject();
    QCOMPARE(summary.value(QStringLiteral("passed")).toInt(), 6);
    QCOMPARE(summary.value(QStringLiteral("failed")).toInt(), 2);
    QCOMPARE(summary.value(QStringLiteral("first_pass_yield")).toDouble(), 0.75);
    QVERIFY(summary.value(QStringLiteral("units_per_hour")).toDouble() > 0);
    // The token PKI lists the issued device certificates like any other leaf.
    const auto issued = m_pki->pki.issued();
    QVERIFY(issued);
    int devices = 0;
    for (const auto& entry : *issued) {
        devices += entry.kind == crypto::IssueKind::Device ? 1 : 0;
    }
    QCOMPARE(devices, kUnits - 2);
}

void TestStation::reportAndImport() {
    QVERIFY2(!m_run.isEmpty(), "needs eightUnitsTwoFailing");
    const QString db = path(QStringLiteral("trace.db"));
    const ProcessRun report = ctl({"station", "report", "--db", db, "--json"});
    QVERIFY2(report.exitCode == 0, qPrintable(describe(report)));
    const QJsonObject exported = QJsonDocument::fromJson(report.out).object();
    QCOMPARE(exported.value(QStringLiteral("format")).toString(),
             QStringLiteral("otafleet.station-records"));
    // The database holds exactly what the run reported.
    auto byId = [](const QJsonArray& records) {
        QMap<QString, QJsonObject> out;
        for (const QJsonValue& v : records) {
            out.insert(v.toObject().value(QStringLiteral("id")).toString(), v.toObject());
        }
        return out;
    };
    QCOMPARE(byId(exported.value(QStringLiteral("records")).toArray()),
             byId(m_run.value(QStringLiteral("records")).toArray()));
    QCOMPARE(exported.value(QStringLiteral("summary"))
                 .toObject()
                 .value(QStringLiteral("first_pass_yield")),
             QJsonValue(0.75));

    const ProcessRun csv = ctl({"station", "report", "--db", db, "--csv"});
    QVERIFY2(csv.exitCode == 0, qPrintable(describe(csv)));
    QCOMPARE(csv.out.count("\r\n"), kUnits + 1);
    QVERIFY(csv.out.startsWith("id,serial_number,port,image_hash"));

    // Another station's database takes the export once.
    const QString exportFile = path(QStringLiteral("export.json"));
    QVERIFY(writeFile(exportFile, report.out));
    const QString merged = path(QStringLiteral("merged.db"));
    const ProcessRun first = ctl({"station", "import", exportFile, "--db", merged, "--json"});
    QVERIFY2(first.exitCode == 0, qPrintable(describe(first)));
    QCOMPARE(QJsonDocument::fromJson(first.out).object().value(QStringLiteral("imported")).toInt(),
             kUnits);
    const ProcessRun again = ctl({"station", "import", exportFile, "--db", merged, "--json"});
    QVERIFY2(again.exitCode == 0, qPrintable(describe(again)));
    const QJsonObject second = QJsonDocument::fromJson(again.out).object();
    QCOMPARE(second.value(QStringLiteral("imported")).toInt(), 0);
    QCOMPARE(second.value(QStringLiteral("already_present")).toInt(), kUnits);

    // A damaged export is refused as a whole, with the record and field named.
    QByteArray damaged = report.out;
    damaged.replace("\"result\": \"pass\"", "\"result\": \"maybe\"");
    QVERIFY(writeFile(exportFile, damaged));
    const ProcessRun refused = ctl({"station", "import", exportFile, "--db", merged});
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains("[station.import-invalid]"), qPrintable(describe(refused)));
}

void TestStation::unitPluggedInWhileRunning() {
    const QString ports = path(QStringLiteral("hotplug"));
    const QString key = path(QStringLiteral("release.pub.pem"));
    QVERIFY(plug(ports, QStringLiteral("HP-1"), key, {}));
    QProcess station;
    station.setProgram(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"));
    station.setArguments(
        test::argList({"station", "run", "--ports", ports + QStringLiteral("/unit-*"), "--image",
                       path(QStringLiteral("image.bin")), "--key", key, "--operator", "op",
                       "--station-id", "bench-2", "--db", path(QStringLiteral("hotplug.db")),
                       "--units", "2", "--timeout", "60s", "--json"}));
    station.start();
    QVERIFY(station.waitForStarted());
    // The second unit arrives once the first one is done.
    QByteArray err;
    QTRY_VERIFY_WITH_TIMEOUT((err += station.readAllStandardError(), err.contains("PASS HP-1")),
                             30'000);
    QVERIFY(plug(ports, QStringLiteral("HP-2"), key, {}));
    QVERIFY(station.waitForFinished(60'000));
    const QByteArray out = station.readAllStandardOutput();
    QVERIFY2(station.exitCode() == 0, out.constData());
    const QJsonArray records =
        QJsonDocument::fromJson(out).object().value(QStringLiteral("records")).toArray();
    QCOMPARE(records.size(), 2);
    QCOMPARE(records.at(1).toObject().value(QStringLiteral("serial_number")).toString(),
             QStringLiteral("HP-2"));
    // No identity was asked for: no certificate, no fingerprint.
    QVERIFY(
        records.at(1).toObject().value(QStringLiteral("cert_fingerprint")).toString().isEmpty());
}

void TestStation::unitTimeoutFailsAStuckUnit() {
    // A unit whose serial line crawls at 1200 baud cannot finish in 2 s; every single request
    // still answers within the SMP timeout (3 s), so only the per-unit limit can end it.
    const QString ports = path(QStringLiteral("slow"));
    const QString key = path(QStringLiteral("release.pub.pem"));
    QVERIFY(plug(ports, QStringLiteral("SLOW-1"), key,
                 {QStringLiteral("--baud"), QStringLiteral("1200")}));
    const ProcessRun run =
        test::otafleetctl(test::argList({"station",        "run",
                                         "--ports",        ports + QStringLiteral("/unit-*"),
                                         "--image",        path(QStringLiteral("image.bin")),
                                         "--key",          key,
                                         "--operator",     "op",
                                         "--station-id",   "bench-3",
                                         "--db",           path(QStringLiteral("slow.db")),
                                         "--units",        "1",
                                         "--unit-timeout", "2s",
                                         "--timeout",      "60s",
                                         "--json"}));
    QVERIFY2(run.exitCode == 1, qPrintable(describe(run)));  // the unit failed
    const QJsonArray records =
        QJsonDocument::fromJson(run.out).object().value(QStringLiteral("records")).toArray();
    QCOMPARE(records.size(), 1);
    const QJsonObject r = records.first().toObject();
    QCOMPARE(r.value(QStringLiteral("result")).toString(), QStringLiteral("fail"));
    QCOMPARE(r.value(QStringLiteral("failure_code")).toString(),
             QStringLiteral("station.unit-timeout"));
    QVERIFY(!r.value(QStringLiteral("failed_stage")).toString().isEmpty());
    QVERIFY(r.value(QStringLiteral("failure_reason")).toString().contains(QStringLiteral("2.0 s")));
    const qint64 ms =
        QDateTime::fromString(r.value(QStringLiteral("started_at")).toString(), Qt::ISODateWithMs)
            .msecsTo(QDateTime::fromString(r.value(QStringLiteral("finished_at")).toString(),
                                           Qt::ISODateWithMs));
    QVERIFY2(ms >= 1900 && ms < 10'000, qPrintable(QString::number(ms)));

    const ProcessRun bad =
        ctl({"station", "run", "--ports", "/nonexistent/*", "--image",
             path(QStringLiteral("image.bin")), "--key", key, "--operator", "op", "--station-id",
             "s", "--db", path(QStringLiteral("y.db")), "--unit-timeout", "soon"});
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.err.contains("--unit-timeout"), qPrintable(describe(bad)));
}

void TestStation::badUsageAndBadImage() {
    const ProcessRun noDb =
        ctl({"station", "run", "--ports", "/nonexistent/*", "--image",
             path(QStringLiteral("image.bin")), "--key", path(QStringLiteral("release.pub.pem")),
             "--operator", "op", "--station-id", "s"});
    QCOMPARE(noDb.exitCode, 2);
    // An image the release key does not verify reaches no unit.
    const ProcessRun wrongKey =
        ctl({"station", "run", "--ports", "/nonexistent/*", "--image",
             path(QStringLiteral("image.bin")), "--key", path(QStringLiteral("other.pub.pem")),
             "--operator", "op", "--station-id", "s", "--db", path(QStringLiteral("x.db"))});
    QCOMPARE(wrongKey.exitCode, 1);
    QVERIFY2(wrongKey.err.contains("no unit flashed"), qPrintable(describe(wrongKey)));
    QVERIFY(!QFile::exists(path(QStringLiteral("x.db"))));
    const ProcessRun help = ctl({"station", "run", "--help"});
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.out.contains("--provision-identity"));
}

QTEST_GUILESS_MAIN(TestStation)
#include "tst_station.moc"
