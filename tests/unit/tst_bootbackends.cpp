// The uboot and grub boot-control backends with the real fw_printenv/fw_setenv and grub-editenv
// on files: round trip, and a torn write of the newest copy falls back to the previous state.
#include "agent/BootControl.h"

#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet::agent;

namespace {

BootState sample(quint64 bootCount) {
    BootState s;
    s.setStatus(SlotId::A, SlotStatus::Good);
    s.securityVersion = 4;
    s.bootCount = bootCount;
    boot::startTrial(s, SlotId::B, 3);
    return s;
}

void tear(const QString& path) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadWrite));
    f.seek(20);
    f.write("torn write torn write");
}

}  // namespace

class TestBootBackends : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roundTripAndTornWrite_data() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("uboot") << QStringLiteral("uboot");
        QTest::newRow("grub") << QStringLiteral("grub");
    }
    void roundTripAndTornWrite() {
        QFETCH(QString, backend);
        const bool uboot = backend == u"uboot";
        if (QStandardPaths::findExecutable(uboot ? QStringLiteral("fw_setenv")
                                                 : QStringLiteral("grub-editenv"))
                .isEmpty())
            QSKIP("the backend's tool is not installed (installer/install-deps.sh)");
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        std::unique_ptr<BootControl> control;
        if (uboot)
            control =
                std::make_unique<UBootBootControl>(tmp.filePath(QStringLiteral("fw_env.config")));
        else
            control = std::make_unique<GrubBootControl>(tmp.filePath(QStringLiteral("grubenv")));
        QCOMPARE(control->load().error().code, QStringLiteral("agent.state-missing"));
        QVERIFY(control->initialize(sample(1)));
        QCOMPARE(*control->load(), sample(1));
        QVERIFY(control->store(sample(2)));
        QVERIFY(control->store(sample(3)));
        QCOMPARE(*control->load(), sample(3));

        // A fresh instance (a new boot) reads the same state.
        std::unique_ptr<BootControl> again;
        if (uboot)
            again =
                std::make_unique<UBootBootControl>(tmp.filePath(QStringLiteral("fw_env.config")));
        else
            again = std::make_unique<GrubBootControl>(tmp.filePath(QStringLiteral("grubenv")));
        QCOMPARE(*again->load(), sample(3));

        // Tear the copy holding state 3: the previous state (2) is what boots. The newest U-Boot
        // copy has the higher flag byte (after the CRC); grub's copies alternate from b.
        QString newest = tmp.filePath(QStringLiteral("grubenv.b"));
        if (uboot) {
            QFile a(tmp.filePath(QStringLiteral("fw_env-a.env")));
            QFile b(tmp.filePath(QStringLiteral("fw_env-b.env")));
            QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
            const auto flagA = quint8(a.read(5).at(4));
            const auto flagB = quint8(b.read(5).at(4));
            newest = flagA > flagB ? a.fileName() : b.fileName();
        }
        tear(newest);
        auto fallback = again->load();
        QVERIFY2(fallback, fallback ? "" : qPrintable(fallback.error().toString()));
        QCOMPARE(*fallback, sample(2));
        // And the next store repairs the torn copy.
        QVERIFY(again->store(sample(5)));
        QCOMPARE(*again->load(), sample(5));
    }
};

QTEST_GUILESS_MAIN(TestBootBackends)
#include "tst_bootbackends.moc"
