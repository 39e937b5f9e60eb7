// The station's traceability records without any device: first-pass yield and units per hour
// from hand-made records, the JSON import's refusals (each a case of the data table), the CSV's
// quoting, and the SQLite store's merge that takes each record once. The provisioning group's
// parsers are checked against CBOR bodies written by hand.
#include "smp/SmpProvisioning.h"
#include "station/RecordExport.h"
#include "station/TraceStore.h"

#include <QCborArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

using namespace otafleet;
using namespace otafleet::station;

namespace {

const QString kHash =
    QStringLiteral("f3534eaf54bb61ba821b585437642d66e618f0fbfeb0d382306bccc8bcc41fb3");

UnitRecord record(int n, const QString& serial, bool passed, int startMinute, int seconds) {
    UnitRecord r;
    r.id = QStringLiteral("00000000-0000-4000-8000-%1").arg(n, 12, 10, QLatin1Char('0'));
    r.serialNumber = serial;
    r.port = QStringLiteral("/dev/ttyACM%1").arg(n);
    r.imageHash = kHash;
    r.imageVersion = QStringLiteral("1.0.0");
    r.stationId = QStringLiteral("line-1");
    r.operatorName = QStringLiteral("op");
    r.startedAt = QDateTime(QDate(2026, 12, 3), QTime(8, startMinute), QTimeZone::utc());
    r.finishedAt = r.startedAt.addSecs(seconds);
    r.result = QString::fromLatin1(passed ? kResultPass : kResultFail);
    if (!passed) {
        r.failedStage = QStringLiteral("upload");
        r.failureCode = QStringLiteral("smp.link-lost");
        r.failureReason = QStringLiteral("The port went away, \"unplugged\", = not a formula");
    }
    return r;
}

// The standard test set: SN1 fails then passes (not first pass), SN2 passes, SN3 fails.
QList<UnitRecord> line() {
    return {record(1, QStringLiteral("SN1"), false, 0, 30),
            record(2, QStringLiteral("SN2"), true, 1, 60),
            record(3, QStringLiteral("SN1"), true, 2, 60),
            record(4, QStringLiteral("SN3"), false, 5, 60)};
}

}  // namespace

class TestStationRecords : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void summaryCountsFirstPassPerSerial();
    void exportRoundTrips();
    void importRefuses_data();
    void importRefuses();
    void csvQuotesAndDefusesFormulas();
    void storeMergesOnce();
    void provisioningBodies();
};

void TestStationRecords::summaryCountsFirstPassPerSerial() {
    const StationSummary s = summarize(line());
    QCOMPARE(s.units, 4);
    QCOMPARE(s.passed, 2);
    QCOMPARE(s.failed, 2);
    QCOMPARE(s.distinctUnits, 3);
    QCOMPARE(s.passedFirstTime, 1);  // SN2 only
    QCOMPARE(*s.firstPassYield, 1.0 / 3.0);
    QCOMPARE(s.spanSeconds, 360.0);  // 08:00:00 to 08:06:00
    QCOMPARE(*s.unitsPerHour, 40.0);
    QCOMPARE(*s.passedPerHour, 20.0);
    QCOMPARE(s.failuresByCode.value(QStringLiteral("smp.link-lost")), 2);
    const StationSummary none = summarize({});
    QVERIFY(!none.firstPassYield && !none.unitsPerHour);
}

void TestStationRecords::exportRoundTrips() {
    const auto parsed = parseRecordsJson(exportJson(line()));
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().toString()));
    QCOMPARE(*parsed, line());
}

void TestStationRecords::importRefuses_data() {
    QTest::addColumn<QString>("field");
    QTest::addColumn<QJsonValue>("value");
    QTest::addColumn<QString>("code");
    const QString invalid = QStringLiteral("station.import-invalid");
    QTest::newRow("result") << "result" << QJsonValue(QStringLiteral("maybe")) << invalid;
    QTest::newRow("id not a uuid") << "id" << QJsonValue(QStringLiteral("1")) << invalid;
    QTest::newRow("hash") << "image_hash" << QJsonValue(QStringLiteral("abc")) << invalid;
    QTest::newRow("upper-case hash") << "image_hash" << QJsonValue(kHash.toUpper()) << invalid;
    QTest::newRow("time not UTC") << "started_at"
                                  << QJsonValue(QStringLiteral("2026-12-03T08:00:00+01:00"))
                                  << invalid;
    QTest::newRow("end before start")
        << "finished_at" << QJsonValue(QStringLiteral("2026-12-03T07:00:00Z")) << invalid;
    QTest::newRow("no station") << "station_id" << QJsonValue(QString()) << invalid;
    QTest::newRow("number for text") << "operator" << QJsonValue(7) << invalid;
    QTest::newRow("too long") << "serial_number" << QJsonValue(QString(300, QLatin1Char('x')))
                              << invalid;
    QTest::newRow("escape sequence")
        << "serial_number" << QJsonValue(QStringLiteral("SN\x1b[2J")) << invalid;
    QTest::newRow("pass with a failure")
        << "failure_code" << QJsonValue(QStringLiteral("x.y")) << invalid;
}

void TestStationRecords::importRefuses() {
    QFETCH(QString, field);
    QFETCH(QJsonValue, value);
    QFETCH(QString, code);
    QJsonObject root =
        QJsonDocument::fromJson(exportJson({record(1, QStringLiteral("SN1"), true, 0, 5)}))
            .object();
    QJsonArray records = root.value(QStringLiteral("records")).toArray();
    QJsonObject r = records.at(0).toObject();
    r.insert(field, value);
    records.replace(0, r);
    root.insert(QStringLiteral("records"), records);
    const auto parsed = parseRecordsJson(QJsonDocument(root).toJson());
    QVERIFY(!parsed);
    QCOMPARE(parsed.error().code, code);
    QVERIFY(parsed.error().message.contains(QStringLiteral("Record 1")));
}

void TestStationRecords::csvQuotesAndDefusesFormulas() {
    UnitRecord r = record(1, QStringLiteral("=cmd|' /c calc'!A1"), false, 0, 5);
    const QByteArray csv = exportCsv({r});
    const QList<QByteArray> lines = csv.split('\n');
    QVERIFY(lines.at(0).startsWith("id,serial_number,"));
    QVERIFY(lines.at(1).contains(",'=cmd|' /c calc'!A1,"));
    QVERIFY(lines.at(1).contains("\"The port went away, \"\"unplugged\"\", = not a formula\""));
}

void TestStationRecords::storeMergesOnce() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("trace.db"));
    {
        auto store = TraceStore::open(path);
        QVERIFY(store);
        QVERIFY(store->add(line().at(0)));
        QCOMPARE(*store->merge(line()), 3);
        QCOMPARE(*store->merge(line()), 0);
    }
    auto reopened = TraceStore::open(path);
    QVERIFY(reopened);
    QCOMPARE(*reopened->records(), line());
    QCOMPARE(reopened->records(QStringLiteral("other"))->size(), 0);
    // The same id twice through add() is an error, not a silent duplicate.
    QVERIFY(!reopened->add(line().at(1)));
}

void TestStationRecords::provisioningBodies() {
    namespace provision = smp::provision;
    const auto identity = provision::parseIdentity(
        QCborMap{{QStringLiteral("sn"), QStringLiteral("SN-1")}, {QStringLiteral("key"), true}});
    QVERIFY(identity);
    QCOMPARE(identity->serialNumber, QStringLiteral("SN-1"));
    QVERIFY(identity->hasKey && !identity->hasCertificate);
    QCOMPARE(provision::parseIdentity(QCborMap{{QStringLiteral("sn"), QStringLiteral("a\nb")}})
                 .error()
                 .code,
             QStringLiteral("smp.bad-response"));
    QCOMPARE(provision::parseIdentity(QCborMap{{QStringLiteral("sn"), 5}}).error().code,
             QStringLiteral("smp.bad-response"));
    // An SMP v2 group error of ours has its own code.
    const QCborMap refused{
        {QStringLiteral("err"),
         QCborMap{{QStringLiteral("group"), provision::kGroup}, {QStringLiteral("rc"), 3}}}};
    QCOMPARE(provision::parseCertWrite(refused).error().code,
             QStringLiteral("smp.provision.key-mismatch"));
    QCOMPARE(
        provision::parseCsr(QCborMap{{QStringLiteral("csr"), QByteArray(5000, 'x')}}).error().code,
        QStringLiteral("smp.bad-response"));
    const smp::Request write = provision::certWrite({QByteArray("a"), QByteArray("b")});
    QCOMPARE(write.group, quint16(96));
    QCOMPARE(write.command, quint8(2));
    QCOMPARE(write.body.value(QStringLiteral("chain")).toArray().size(), 2);
}

QTEST_GUILESS_MAIN(TestStationRecords)
#include "tst_stationrecords.moc"
