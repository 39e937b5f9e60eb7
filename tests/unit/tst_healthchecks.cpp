// The agent's built-in health checks against the real system: a real directory, statvfs, and
// real TCP listeners and closed ports on loopback.
#include "agent/HealthChecks.h"

#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <limits>

using namespace otafleet::agent;

namespace {

// A loopback port nothing listens on: bound once, then closed.
quint16 closedPort() {
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost))
        return 0;
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

}  // namespace

class TestHealthChecks : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void healthyDevice() {
        QTemporaryDir dir;
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        HealthCheckSpec spec;
        spec.dataDir = dir.path();
        spec.minFreeBytes = 4096;
        spec.tcpTargets = {QStringLiteral("127.0.0.1:%1").arg(server.serverPort()),
                           QStringLiteral("localhost:%1").arg(server.serverPort())};
        const auto results = runBuiltinHealthChecks(spec);
        QCOMPARE(results.size(), 4);
        for (const auto& r : results)
            QVERIFY2(r.ok, qPrintable(r.name + QStringLiteral(": ") + r.detail));
        QVERIFY(allHealthy(results));
        QVERIFY(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).isEmpty());  // no probe left
    }

    // Each failure is reported with what was found, and does not hide the others.
    void everyFailureIsReported() {
        QTemporaryDir dir;
        HealthCheckSpec spec;
        spec.dataDir = dir.filePath(QStringLiteral("missing"));
        spec.minFreeBytes = std::numeric_limits<quint64>::max();
        spec.tcpTargets = {QStringLiteral("127.0.0.1:%1").arg(closedPort()),
                           QStringLiteral("no-such-host.invalid:80")};
        spec.timeout = std::chrono::milliseconds(2000);
        const auto results = runBuiltinHealthChecks(spec);
        QCOMPARE(results.size(), 4);
        QVERIFY(!allHealthy(results));
        QCOMPARE(results[0].name, QStringLiteral("data-writable"));
        QVERIFY(!results[0].ok);
        QVERIFY2(results[0].detail.contains(QStringLiteral("cannot create")),
                 qPrintable(results[0].detail));
        QCOMPARE(results[1].name, QStringLiteral("free-space"));
        QVERIFY(!results[1].ok);
        QVERIFY(!results[2].ok);
        QVERIFY2(results[2].detail.contains(QStringLiteral("cannot be reached")),
                 qPrintable(results[2].detail));
        QVERIFY(!results[3].ok);
        QVERIFY2(results[3].detail.contains(QStringLiteral("cannot resolve")),
                 qPrintable(results[3].detail));
    }
};

QTEST_GUILESS_MAIN(TestHealthChecks)
#include "tst_healthchecks.moc"
