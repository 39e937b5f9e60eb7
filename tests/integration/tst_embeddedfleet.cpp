// EmbeddedFleet with everything real: two otafleet-agent processes on loopback (test PKI, TLS
// with the operator identity), the LAN plugin loaded by DeviceHub from the build tree, and the
// fleet database in a temp dir. Add, refresh, update with progress to a committed version, roll
// back, and a bundle for other hardware refused with its code surfaced and remembered.
#include "AgentProcess.h"
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "fleet/EmbeddedFleet.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using fleet::EmbeddedFleet;
using link::LinkOperation;
using test::AgentProcess;

namespace {
constexpr int kOperationTimeoutMs = 90000;

QByteArray describe(const std::optional<Error>& error) {
    return error ? error->toString().toUtf8() : QByteArray();
}
}  // namespace

class TestEmbeddedFleet : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;
    std::unique_ptr<AgentProcess> m_agentA;  // hardware rev-a
    std::unique_ptr<AgentProcess> m_agentB;  // hardware rev-b
    std::unique_ptr<link::DeviceHub> m_hub;
    std::unique_ptr<EmbeddedFleet> m_fleet;
    qint64 m_idA = 0;
    qint64 m_idB = 0;

    // Waits for the next operationFinished of `id`; returns its error (if any).
    std::optional<std::optional<Error>> waitFinished(QSignalSpy& spy, qint64 id,
                                                     LinkOperation operation) {
        QDeadlineTimer deadline(kOperationTimeoutMs);
        while (!deadline.hasExpired()) {
            for (const QList<QVariant>& args : std::as_const(spy)) {
                if (args.at(0).toLongLong() == id && args.at(1).value<LinkOperation>() == operation)
                    return args.at(2).value<std::optional<Error>>();
            }
            spy.wait(static_cast<int>(std::max<qint64>(1, deadline.remainingTime())));
        }
        return std::nullopt;
    }

    QString activeVersion(qint64 id) const {
        const auto d = m_fleet->device(id);
        return d && d->snapshot ? d->snapshot->activeVersion() : QString();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto a = AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR),
                                     m_tmp.filePath(QStringLiteral("agent-a")), m_pki->pkiDir,
                                     QStringLiteral("bench-a"), QStringLiteral("rev-a"));
        VERIFY_OK(a);
        auto b = AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR),
                                     m_tmp.filePath(QStringLiteral("agent-b")), m_pki->pkiDir,
                                     QStringLiteral("bench-b"), QStringLiteral("rev-b"));
        VERIFY_OK(b);
        m_agentA = std::move(*a);
        m_agentB = std::move(*b);
        VERIFY_OK(m_agentA->start());
        VERIFY_OK(m_agentB->start());

        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{m_pki->pkiDir, {}, {}, {}},
                                                  QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto fleet = EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(fleet);
        m_fleet = std::move(*fleet);
    }

    void cleanupTestCase() {
        m_fleet.reset();
        m_hub.reset();
        m_agentA.reset();
        m_agentB.reset();
    }

    void addsAndRefreshesBothDevices() {
        QSignalSpy added(m_fleet.get(), &fleet::FleetService::deviceAdded);
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        auto a = m_fleet->addDevice(m_agentA->target(), QStringLiteral("Bench A"));
        auto b = m_fleet->addDevice(QStringLiteral("lan://") + m_agentB->target(), QString());
        VERIFY_OK(a);
        VERIFY_OK(b);
        m_idA = *a;
        m_idB = *b;
        QCOMPARE(added.count(), 2);
        QCOMPARE(m_fleet->device(m_idA)->uri, QStringLiteral("lan://") + m_agentA->target());

        // Adding contacts the device at once.
        auto refreshedA = waitFinished(finished, m_idA, LinkOperation::Refresh);
        auto refreshedB = waitFinished(finished, m_idB, LinkOperation::Refresh);
        QVERIFY2(refreshedA && !*refreshedA, m_agentA->output().constData());
        QVERIFY2(refreshedB && !*refreshedB, m_agentB->output().constData());
        const fleet::FleetDevice devA = *m_fleet->device(m_idA);
        QVERIFY(devA.snapshot);
        QCOMPARE(devA.snapshot->hardware, QStringLiteral("rev-a"));
        QCOMPARE(devA.snapshot->activeSlot, QStringLiteral("A"));
        QCOMPARE(devA.snapshot->activeVersion(), QStringLiteral("1.0.0"));
        QVERIFY(devA.lastSeen.isValid());
        QCOMPARE(devA.displayName(), QStringLiteral("Bench A"));
        // Unnamed: the device's own name.
        QCOMPARE(m_fleet->device(m_idB)->displayName(), QStringLiteral("bench-b"));

        // The report is in the database.
        auto record = m_fleet->store().devices().get(m_idA);
        VERIFY_OK(record);
        QVERIFY(record->snapshotJson.contains("rev-a"));

        // A second refresh while one runs is refused, not queued.
        finished.clear();
        VERIFY_OK(m_fleet->refresh(m_idA));
        QCOMPARE(m_fleet->refresh(m_idA).error().code, QStringLiteral("link.busy"));
        QVERIFY(m_fleet->device(m_idA)->running.has_value());
        auto again = waitFinished(finished, m_idA, LinkOperation::Refresh);
        QVERIFY(again && !*again);
        QVERIFY(!m_fleet->device(m_idA)->running.has_value());
    }

    void updatesToCommittedVersionWithProgress() {
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), {});
        VERIFY_OK(bundle);
        QSignalSpy progress(m_fleet.get(), &fleet::FleetService::operationProgress);
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        VERIFY_OK(m_fleet->startUpdate(m_idA, *bundle, link::UpdateOptions{}));
        QCOMPARE(m_fleet->startUpdate(m_idA, *bundle, {}).error().code,
                 QStringLiteral("link.busy"));
        auto result = waitFinished(finished, m_idA, LinkOperation::Update);
        QVERIFY2(result.has_value(), "the update did not finish in time");
        QVERIFY2(!*result, describe(*result).constData());

        QStringList phases;
        for (const QList<QVariant>& args : std::as_const(progress)) {
            QCOMPARE(args.at(0).toLongLong(), m_idA);
            const QString phase = args.at(1).toString();
            if (phases.isEmpty() || phases.last() != phase)
                phases.append(phase);
        }
        QVERIFY2(phases.contains(QStringLiteral("Transferring")), qPrintable(phases.join(u',')));
        QVERIFY2(phases.contains(QStringLiteral("Rebooting")), qPrintable(phases.join(u',')));
        QVERIFY2(phases.contains(QStringLiteral("Committing")), qPrintable(phases.join(u',')));

        const fleet::FleetDevice d = *m_fleet->device(m_idA);
        QCOMPARE(d.snapshot->activeSlot, QStringLiteral("B"));
        QCOMPARE(d.snapshot->activeVersion(), QStringLiteral("1.1.0"));
        QVERIFY(!d.snapshot->trial);
        QVERIFY(!d.lastError);
        auto events = m_fleet->store().events().forDevice(m_idA);
        VERIFY_OK(events);
        QVERIFY(!events->isEmpty());
        QCOMPARE(events->first().kind, QStringLiteral("update.finished"));
        QCOMPARE(events->first().detail, QStringLiteral("1.1.0"));
    }

    void rollsBack() {
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        VERIFY_OK(m_fleet->rollback(m_idA));
        auto result = waitFinished(finished, m_idA, LinkOperation::Rollback);
        QVERIFY2(result.has_value(), "the rollback did not finish in time");
        QVERIFY2(!*result, describe(*result).constData());
        const fleet::FleetDevice d = *m_fleet->device(m_idA);
        QCOMPARE(d.snapshot->activeSlot, QStringLiteral("A"));
        QCOMPARE(d.snapshot->activeVersion(), QStringLiteral("1.0.0"));
    }

    void wrongHardwareIsRefusedAndRemembered() {
        // Built for rev-a, pushed to the rev-b device.
        test::TestBundleSpec spec;
        spec.version = QStringLiteral("1.2.0");
        auto bundle = test::makeSignedBundle(*m_pki, m_tmp.path(), spec);
        VERIFY_OK(bundle);
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        VERIFY_OK(m_fleet->startUpdate(m_idB, *bundle, link::UpdateOptions{}));
        auto result = waitFinished(finished, m_idB, LinkOperation::Update);
        QVERIFY2(result.has_value(), "the update did not finish in time");
        QVERIFY2(result->has_value(), "an update for other hardware succeeded");
        QCOMPARE((*result)->code, QStringLiteral("bundle.wrong-hardware"));
        QVERIFY(!(*result)->message.isEmpty());

        const fleet::FleetDevice d = *m_fleet->device(m_idB);
        QVERIFY(d.lastError);
        QCOMPARE(d.lastError->code, QStringLiteral("bundle.wrong-hardware"));
        QCOMPARE(m_fleet->store().devices().get(m_idB)->lastErrorCode,
                 QStringLiteral("bundle.wrong-hardware"));
        // The device still runs what it ran.
        auto refreshed = waitFinished(finished, m_idB, LinkOperation::Refresh);
        QVERIFY(refreshed && !*refreshed);
        QCOMPARE(activeVersion(m_idB), QStringLiteral("1.0.0"));
        // A plain refresh does not hide the failed update.
        QVERIFY(m_fleet->device(m_idB)->lastError);
    }

    void unreachableDeviceShowsAnErrorAndRecovers() {
        QSignalSpy finished(m_fleet.get(), &fleet::FleetService::operationFinished);
        m_agentA->kill();
        VERIFY_OK(m_fleet->refresh(m_idA));
        auto down = waitFinished(finished, m_idA, LinkOperation::Refresh);
        QVERIFY(down && down->has_value());
        QVERIFY2((*down)->code.startsWith(QStringLiteral("link.")), qPrintable((*down)->code));
        QVERIFY(m_fleet->device(m_idA)->lastError);

        finished.clear();
        VERIFY_OK(m_agentA->start());
        VERIFY_OK(m_fleet->refresh(m_idA));
        auto up = waitFinished(finished, m_idA, LinkOperation::Refresh);
        QVERIFY(up && !*up);
        QVERIFY(!m_fleet->device(m_idA)->lastError);
    }

    void removesDeviceAndReloadsFromStore() {
        QSignalSpy removed(m_fleet.get(), &fleet::FleetService::deviceRemoved);
        VERIFY_OK(m_fleet->removeDevice(m_idB));
        QCOMPARE(removed.count(), 1);
        QVERIFY(!m_fleet->device(m_idB));
        QCOMPARE(m_fleet->removeDevice(m_idB).error().code, QStringLiteral("fleet.unknown-device"));

        // A second fleet on the same file sees what the first remembered.
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        auto reloaded = EmbeddedFleet::create(std::move(*store), *m_hub);
        VERIFY_OK(reloaded);
        const QList<fleet::FleetDevice> devices = (*reloaded)->devices();
        QCOMPARE(devices.size(), 1);
        QCOMPARE(devices.first().name, QStringLiteral("Bench A"));
        QVERIFY(devices.first().snapshot);
        QCOMPARE(devices.first().snapshot->activeVersion(), QStringLiteral("1.0.0"));
    }
};

QTEST_GUILESS_MAIN(TestEmbeddedFleet)
#include "tst_embeddedfleet.moc"
