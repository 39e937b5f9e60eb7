// The console's Station view (offscreen) over a real station run: two otafleet-mcusim units on
// real ptys, one whose key refuses the image. The tile model is checked by
// QAbstractItemModelTester throughout the run; the view shows one tile per port, green for the
// unit that passed and red for the one that failed, with the reason as tooltip; Start hands over
// the settings as typed and the settings lock while a run goes on.
#include "McuSimProcess.h"
#include "ProcessRun.h"

#include "station/Station.h"
#include "station/StationTileModel.h"
#include "ui/StationView.h"

#include "bundle/McubootImage.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;

namespace {

bool makeKey(const QString& dir, const QString& name) {
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    const QString key = dir + QLatin1Char('/') + name + QStringLiteral(".key");
    return test::runProcess(openssl, test::argList({"genpkey", "-algorithm", "EC", "-pkeyopt",
                                                    "ec_paramgen_curve:P-256", "-out", key}))
                   .exitCode == 0 &&
           test::runProcess(openssl,
                            test::argList({"pkey", "-in", key, "-pubout", "-out",
                                           dir + QLatin1Char('/') + name + QStringLiteral(".pub")}))
                   .exitCode == 0;
}

QColor tileColour(QListView* view, int row) {
    const QImage image = view->viewport()->grab().toImage();
    const QRect rect = view->visualRect(view->model()->index(row, 0));
    return image.pixelColor(rect.left() + 10, rect.center().y());
}

}  // namespace

class TestStationView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tilesFollowARealRun();
    void startHandsOverTheSettings();
};

void TestStationView::tilesFollowARealRun() {
    QTemporaryDir dir;
    QVERIFY(makeKey(dir.path(), QStringLiteral("good")) &&
            makeKey(dir.path(), QStringLiteral("other")));
    QFile fw(dir.filePath(QStringLiteral("fw.bin")));
    QVERIFY(fw.open(QIODevice::WriteOnly));
    fw.write(QByteArray(8 * 1024, 'z'));
    fw.close();
    const auto sign = test::runProcess(
        QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl"),
        test::argList({"mcuboot", "sign", dir.filePath(QStringLiteral("fw.bin")), "--key",
                       dir.filePath(QStringLiteral("good.key")), "--version", "1.0.0",
                       "--header-size", "0x200", "--slot-size", "0x10000", "--pad-header", "-o",
                       dir.filePath(QStringLiteral("image.bin"))}));
    QCOMPARE(sign.exitCode, 0);
    const QByteArray image = test::readAll(dir.filePath(QStringLiteral("image.bin")));
    const auto info = bundle::mcuboot::verifyImage(
        image, test::readAll(dir.filePath(QStringLiteral("good.pub"))));
    QVERIFY(info);

    test::McuSimProcess good;
    test::McuSimProcess bad;
    QVERIFY(
        good.start(dir.filePath(QStringLiteral("u1")), dir.filePath(QStringLiteral("good.pub")),
                   {QStringLiteral("--pty"), QStringLiteral("--serial"), QStringLiteral("GOOD")}));
    QVERIFY(
        bad.start(dir.filePath(QStringLiteral("u2")), dir.filePath(QStringLiteral("other.pub")),
                  {QStringLiteral("--pty"), QStringLiteral("--serial"), QStringLiteral("BAD")}));
    QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("ports"))));
    QVERIFY(QFile::link(good.pty(), dir.filePath(QStringLiteral("ports/a"))));
    QVERIFY(QFile::link(bad.pty(), dir.filePath(QStringLiteral("ports/b"))));

    station::StationTileModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ui::StationView view(&model);
    view.resize(800, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    station::StationOptions options;
    options.portPattern = dir.filePath(QStringLiteral("ports/*"));
    options.maxUnits = 2;
    options.pollMs = 50;
    options.job.image = image;
    options.job.imageHash = info->sha256;
    options.job.imageVersion = info->version.toString();
    options.job.stationId = QStringLiteral("gui");
    options.job.operatorName = QStringLiteral("tester");
    station::Station station(options, nullptr);
    model.attach(station);
    QSignalSpy finished(&station, &station::Station::finished);
    station.start();
    QVERIFY(finished.wait(30'000));

    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(view.tiles()->model(), &model);
    int passRow = -1;
    int failRow = -1;
    for (int row = 0; row < model.rowCount(); ++row) {
        const QModelIndex index = model.index(row, 0);
        const QString serial = index.data(station::StationTileModel::SerialRole).toString();
        const QString result = index.data(station::StationTileModel::ResultRole).toString();
        if (serial == QStringLiteral("GOOD")) {
            QCOMPARE(result, QStringLiteral("pass"));
            QCOMPARE(index.data(station::StationTileModel::ProgressRole).toInt(), 100);
            passRow = row;
        } else {
            QCOMPARE(serial, QStringLiteral("BAD"));
            QCOMPARE(result, QStringLiteral("fail"));
            QVERIFY(index.data(Qt::ToolTipRole).toString().contains(QStringLiteral("[smp.image.")));
            failRow = row;
        }
    }
    QVERIFY(passRow >= 0 && failRow >= 0);
    QTRY_COMPARE(tileColour(view.tiles(), passRow), QColor(0xd8, 0xf0, 0xd8));
    QCOMPARE(tileColour(view.tiles(), failRow), QColor(0xf6, 0xd4, 0xd4));
    QCOMPARE(model.records().size(), 2);
}

void TestStationView::startHandsOverTheSettings() {
    station::StationTileModel model;
    ui::StationView view(&model);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    ui::StationViewRequest wanted;
    wanted.ports = QStringLiteral("/dev/serial/by-id/usb-Acme*");
    wanted.image = QStringLiteral("/tmp/app.bin");
    wanted.pki = QStringLiteral("/tmp/pki");
    wanted.provisionIdentity = true;
    wanted.operatorName = QStringLiteral("Ada");
    wanted.stationId = QStringLiteral("line-1");
    wanted.database = QStringLiteral("/tmp/line.db");
    wanted.units = 16;
    view.setRequest(wanted);
    QSignalSpy started(&view, &ui::StationView::startRequested);
    QTest::mouseClick(view.startButton(), Qt::LeftButton);
    QCOMPARE(started.size(), 1);
    const auto got = started.at(0).at(0).value<ui::StationViewRequest>();
    QCOMPARE(got.ports, wanted.ports);
    QCOMPARE(got.pki, wanted.pki);
    QVERIFY(got.provisionIdentity);
    QCOMPARE(got.units, 16);
    QCOMPARE(got.operatorName, QStringLiteral("Ada"));
    view.setRunning(true);
    QVERIFY(!view.startButton()->isEnabled());
    QVERIFY(view.stopButton()->isEnabled());
    const auto edits = view.findChildren<QLineEdit*>();
    QVERIFY(!edits.isEmpty());
    for (QLineEdit* edit : edits) {
        QVERIFY(!edit->isEnabled());
    }
    QSignalSpy stopped(&view, &ui::StationView::stopRequested);
    QTest::mouseClick(view.stopButton(), Qt::LeftButton);
    QCOMPARE(stopped.size(), 1);
}

QTEST_MAIN(TestStationView)
#include "tst_stationview.moc"
