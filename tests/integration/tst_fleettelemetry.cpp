// The console's fleet collects telemetry: each refresh through the real LAN plugin stores a real
// agent's events in the SQLite fleet store and acknowledges, at the next refresh, only what was
// stored; an update's phases arrive once each, and a fleet reopened on the same file carries on
// without duplicates.
#include "AgentProcess.h"
#include "ProcessRun.h"
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "fleet/EmbeddedFleet.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using fleet::EmbeddedFleet;
using link::LinkOperation;

class TestFleetTelemetry : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;
    std::unique_ptr<test::AgentProcess> m_agent;
    std::unique_ptr<link::DeviceHub> m_hub;

    std::unique_ptr<EmbeddedFleet> openFleet() {
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        if (!store)
            return nullptr;
        auto fleet = EmbeddedFleet::create(std::move(*store), *m_hub);
        return fleet ? std::move(*fleet) : nullptr;
    }

    // Runs `start` and waits for its operation to finish without error.
    static bool finishes(EmbeddedFleet& fleet, qint64 id, LinkOperation operation,
                         const std::function<Status()>& start) {
        QSignalSpy finished(&fleet, &fleet::FleetService::operationFinished);
        if (start && !start())
            return false;
        QDeadlineTimer deadline(60000);
        while (!deadline.hasExpired()) {
            for (const QList<QVariant>& args : std::as_const(finished)) {
                if (args.at(0).toLongLong() == id && args.at(1).value<LinkOperation>() == operation)
                    return !args.at(2).value<std::optional<Error>>().has_value();
            }
            finished.wait(200);
        }
        return false;
    }

    // What the agent itself reports about its queue, asked by otafleetctl: the LAN plugin
    // carries its own copy of the generated protobuf code, so this process must not link another.
    struct Queue {
        quint64 ackedSeq = 0;
        qsizetype pending = -1;
    };
    Queue deviceQueue() {
        const test::ProcessRun run =
            test::runProcess(QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
                             test::argList({"device", "events", "--target", m_agent->target(),
                                            "--pki", m_pki->pkiDir, "--json"}));
        const QJsonObject reply = QJsonDocument::fromJson(run.out).object();
        if (run.exitCode != 0)
            qWarning("%s", run.err.constData());
        return Queue{
            quint64(reply.value(QStringLiteral("acked_seq")).toDouble()),
            run.exitCode == 0 ? reply.value(QStringLiteral("events")).toArray().size() : -1};
    }

    static QStringList typesOf(const QList<store::TelemetryRecord>& records) {
        QStringList types;
        for (const store::TelemetryRecord& r : records)
            types << r.type;
        return types;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto agent = test::AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR),
                                               m_tmp.filePath(QStringLiteral("agent")),
                                               m_pki->pkiDir, QStringLiteral("bench"));
        VERIFY_OK(agent);
        m_agent = std::move(*agent);
        VERIFY_OK(m_agent->start());
        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{m_pki->pkiDir, {}, {}, {}},
                                                  QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
    }

    void refreshStoresThenAcknowledges() {
        auto fleet = openFleet();
        QVERIFY(fleet);
        // Adding a device contacts it at once (a refresh).
        QSignalSpy finished(fleet.get(), &fleet::FleetService::operationFinished);
        auto added = fleet->addDevice(m_agent->target(), QString());
        VERIFY_OK(added);
        const qint64 id = *added;
        QVERIFY(finished.wait(30000));
        QVERIFY(!finished.first().at(2).value<std::optional<Error>>());

        // The first contact stores the boot's events; the device still holds them.
        auto stored = fleet->store().telemetry().forDevice(id);
        VERIFY_OK(stored);
        QVERIFY2(typesOf(*stored).contains(QStringLiteral("boot")),
                 qPrintable(typesOf(*stored).join(u',')));
        QVERIFY(typesOf(*stored).contains(QStringLiteral("metrics")));
        const quint64 firstLast = stored->last().seq;
        QCOMPARE(deviceQueue().ackedSeq, quint64(0));

        // The next refresh acknowledges exactly what is stored; nothing is stored twice.
        QVERIFY(finishes(*fleet, id, LinkOperation::Refresh, [&] { return fleet->refresh(id); }));
        QCOMPARE(deviceQueue().ackedSeq, firstLast);
        QCOMPARE(fleet->store().telemetry().forDevice(id)->size(), stored->size());

        // An update's phases arrive with the next refresh, once each.
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        QVERIFY(finishes(*fleet, id, LinkOperation::Update,
                         [&] { return fleet->startUpdate(id, *bundle, link::UpdateOptions{}); }));
        QVERIFY(finishes(*fleet, id, LinkOperation::Refresh, [&] { return fleet->refresh(id); }));
        auto after = fleet->store().telemetry().forDevice(id);
        VERIFY_OK(after);
        const QStringList types = typesOf(*after);
        for (const char* phase : {"upload-completed", "install-done", "trial-boot", "commit"})
            QVERIFY2(types.count(QLatin1String(phase)) == 1, qPrintable(types.join(u',')));
        auto uploads = fleet->store().telemetry().forDevice(id, QStringLiteral("upload-completed"));
        VERIFY_OK(uploads);
        QCOMPARE(uploads->size(), 1);
        QVERIFY(uploads->first().json.contains("\"throughput_bytes_per_s\""));
        QSet<quint64> seqs;
        for (const store::TelemetryRecord& r : *after)
            seqs.insert(r.seq);
        QCOMPARE(seqs.size(), after->size());
        const quint64 lastStored = after->last().seq;

        // A fleet reopened on the same file acknowledges what it stored before, at once.
        fleet.reset();
        auto reopened = openFleet();
        QVERIFY(reopened);
        QVERIFY(
            finishes(*reopened, id, LinkOperation::Refresh, [&] { return reopened->refresh(id); }));
        const Queue queue = deviceQueue();
        QCOMPARE(queue.ackedSeq, lastStored);
        QCOMPARE(queue.pending, qsizetype(0));
        QCOMPARE(reopened->store().telemetry().forDevice(id)->size(), after->size());
    }
};

QTEST_GUILESS_MAIN(TestFleetTelemetry)
#include "tst_fleettelemetry.moc"
