// Each built program's --version against the version CMake computed for this build: one number
// for otafleet, otafleetctl, otafleet-agent (and otafleetd), taken from one place.
#include "ProcessRun.h"

#include <QRegularExpression>
#include <QTest>

using namespace otafleet;

class TestVersion : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void programAnswersVersion_data() {
        QTest::addColumn<QString>("program");
        QTest::newRow("otafleetctl") << QStringLiteral("otafleetctl");
        QTest::newRow("otafleet-agent") << QStringLiteral("otafleet-agent");
#ifdef OTAFLEET_HAVE_OTAFLEET
        QTest::newRow("otafleet") << QStringLiteral("otafleet");
#endif
#ifdef OTAFLEET_HAVE_OTAFLEETD
        QTest::newRow("otafleetd") << QStringLiteral("otafleetd");
#endif
    }

    void programAnswersVersion() {
        QFETCH(QString, program);
        // The console answers --version without a display (ctest sets QT_QPA_PLATFORM anyway).
        qputenv("QT_QPA_PLATFORM", "offscreen");
        const test::ProcessRun run = test::runProcess(
            QStringLiteral(OTAFLEET_BIN_DIR "/") + program, {QStringLiteral("--version")});
        QCOMPARE(run.exitCode, 0);
        const QString expected =
            program + QLatin1Char(' ') + QStringLiteral(OTAFLEET_EXPECTED_VERSION);
        QCOMPARE(QString::fromUtf8(run.out).trimmed(), expected);
    }

    void versionIsSemVer() {
        // Packages and the agent's minimum-version checks both need X.Y.Z[+BUILD].
        const QString version = QStringLiteral(OTAFLEET_EXPECTED_VERSION);
        QVERIFY2(QRegularExpression(QStringLiteral(R"(^\d+\.\d+\.\d+(\+[0-9A-Za-z.]+)?$)"))
                     .match(version)
                     .hasMatch(),
                 qPrintable(version));
    }
};

QTEST_GUILESS_MAIN(TestVersion)
#include "tst_version.moc"
