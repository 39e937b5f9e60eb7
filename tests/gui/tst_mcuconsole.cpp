// The console's side of MCU-class devices (issue 10), against real otafleet-mcusim processes on
// real pseudo-terminals and UDP sockets, through the real serial and udp plugins: a serial device
// joins the device list when its simulator starts and leaves when it stops (the port enumerator
// is the one thing injected: it lists the simulators' ptys, behind the same interface as the
// QSerialPortInfo one); the slot pane shows what `otafleetctl mcu info --json` reports; Update…
// runs upload, test, reset, confirm; wrongly signed and truncated images are refused with their
// reason; a dropped link resumes from the device's offset; UDP devices are added by address;
// the BLE scan dialog finds the in-process simulated device (there is no radio here).
#include "CliRun.h"
#include "McuSimProcess.h"
#include "VerifyOk.h"

#include "common/AtomicFile.h"

#include "fleet/EmbeddedFleet.h"
#include "fleet/HotplugDevices.h"
#include "link/DeviceHub.h"
#include "link/PortWatcher.h"
#include "mcusim/SimBleLink.h"
#include "mcusim/SimBleScanner.h"
#include "mcusim/SimDevice.h"
#include "store/FleetStore.h"
#include "ui/AddDeviceDialog.h"
#include "ui/BleScanDialog.h"
#include "ui/DeviceDetailsPane.h"
#include "ui/DeviceTableModel.h"
#include "ui/ImageSlotModel.h"
#include "ui/MainWindow.h"
#include "ui/UpdateDialog.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using otafleet::test::McuSimProcess;

namespace {

constexpr int kUpdateMs = 60'000;
constexpr int kAppearMs = 15'000;
constexpr qint64 kDropAt = 20'000;

// The ptys of the simulators a test started, as a USB enumerator lists plugged-in ports: a pty
// whose simulator has exited is gone from /dev/pts, so it is gone from the list too.
class PtyPorts : public link::PortEnumerator {
public:
    void plug(const QString& path) {
        const QMutexLocker lock(&m_mutex);
        m_paths.append(path);
    }
    [[nodiscard]] QList<link::PortInfo> ports() const override {
        const QMutexLocker lock(&m_mutex);
        QList<link::PortInfo> out;
        for (const QString& path : m_paths) {
            if (!QFileInfo::exists(path))
                continue;
            link::PortInfo port;
            port.path = path;
            port.uri = QStringLiteral("serial://") + path;
            port.description = QStringLiteral("otafleet-mcusim");
            port.vendorId = QStringLiteral("2fe3");  // Zephyr's USB vendor id
            port.productId = QStringLiteral("0100");
            out.append(port);
        }
        return out;
    }

private:
    mutable QMutex m_mutex;
    QStringList m_paths;
};

QByteArray firmware(quint32 seed) {
    QByteArray bytes(24 * 1024, '\0');
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        bytes[i] = char(seed);
    }
    return bytes;
}

QString errorOf(const fleet::FleetDevice& device) {
    return device.lastError ? device.lastError->toString() : QString();
}

QJsonObject json(const test::ProcessRun& run) {
    return QJsonDocument::fromJson(run.out).object();
}

// Saves a widget as PNG when OTAFLEET_RENDER_DIR is set (for looking at the screens).
void render(QWidget* widget, const QString& name) {
    const QString dir = qEnvironmentVariable("OTAFLEET_RENDER_DIR");
    if (dir.isEmpty() || widget == nullptr)
        return;
    QTest::qWait(50);  // pending layout requests first, as a screen would show them
    widget->grab().save(QDir(dir).filePath(name + QStringLiteral(".png")));
}

}  // namespace

class TestMcuConsole : public QObject {
    Q_OBJECT

    // One console: a fleet on its own SQLite file, a window, and hot-plug over PtyPorts.
    struct Console {
        std::unique_ptr<fleet::EmbeddedFleet> fleet;
        std::unique_ptr<ui::MainWindow> window;
        std::unique_ptr<QAbstractItemModelTester> tableTester;
        PtyPorts* ports = nullptr;  // owned by the watcher
        std::unique_ptr<link::PortWatcher> watcher;
        std::unique_ptr<fleet::HotplugDevices> hotplug;

        [[nodiscard]] ui::DeviceTableModel* model() const { return window->deviceModel(); }
        // The attached device of `pty`, 0 until it is in the fleet.
        [[nodiscard]] qint64 deviceOf(const QString& pty) const {
            for (const fleet::FleetDevice& d : fleet->devices()) {
                if (d.uri == QStringLiteral("serial://") + pty)
                    return d.id;
            }
            return 0;
        }
        ~Console() {
            hotplug.reset();
            watcher.reset();
            window.reset();
            fleet.reset();
        }
    };

    std::unique_ptr<Console> console() {
        auto c = std::make_unique<Console>();
        auto store = store::FleetStore::open(
            m_dir.filePath(QStringLiteral("fleet-%1.sqlite").arg(++m_consoles)));
        if (!store)
            return nullptr;
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), *m_hub);
        if (!fleet)
            return nullptr;
        c->fleet = std::move(*fleet);
        c->fleet->setReleaseKey(pub());
        c->window = std::make_unique<ui::MainWindow>(*c->fleet);
        c->tableTester = std::make_unique<QAbstractItemModelTester>(
            c->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto ports = std::make_unique<PtyPorts>();
        c->ports = ports.get();
        constexpr int kPollMs = 100;
        c->watcher = std::make_unique<link::PortWatcher>(std::move(ports), kPollMs);
        c->hotplug = std::make_unique<fleet::HotplugDevices>(*c->fleet, *c->watcher);
        c->watcher->start();
        c->window->resize(1200, 640);
        c->window->show();
        return c;
    }

    // Plugs the simulator's pty in and waits until its device answered once.
    qint64 plugIn(Console& c, const QString& pty) {
        c.ports->plug(pty);
        qint64 id = 0;
        [&] { QTRY_VERIFY_WITH_TIMEOUT((id = c.deviceOf(pty)) != 0, kAppearMs); }();
        if (id == 0)
            return 0;
        [&] {
            QTRY_VERIFY_WITH_TIMEOUT(c.fleet->device(id) && c.fleet->device(id)->snapshot &&
                                         !c.fleet->device(id)->running,
                                     kAppearMs);
        }();
        return id;
    }

    QString pub() const { return m_dir.filePath(QStringLiteral("pub.pem")); }
    QString image(const char* name) const {
        return m_dir.filePath(QString::fromLatin1(name) + QStringLiteral(".img"));
    }
    QString simDir(const char* name) const {
        return m_dir.filePath(QStringLiteral("sim-") + QString::fromLatin1(name));
    }

    // Uploads and confirms `img` over UDP with the CLI (the console is not involved).
    static bool cliInstall(const QString& udp, const QString& img, const QString& key,
                           bool confirm) {
        QStringList args{QStringLiteral("mcu"),
                         QStringLiteral("upload"),
                         img,
                         QStringLiteral("--key"),
                         key,
                         QStringLiteral("--udp"),
                         udp,
                         QStringLiteral("--json")};
        if (confirm)
            args.append(QStringLiteral("--confirm"));
        const auto run = test::otafleetctl(args);
        if (run.exitCode != 0)
            qWarning("mcu upload: %s", run.err.constData());
        return run.exitCode == 0;
    }

    static QJsonArray cliImages(const QString& udp) {
        const auto run = test::ctl({"mcu", "info", "--udp", udp, "--json"});
        return json(run).value(QStringLiteral("images")).toArray();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        QVERIFY(!openssl.isEmpty());
        for (const char* name : {"key", "other"}) {
            const QString key = m_dir.filePath(QString::fromLatin1(name) + QStringLiteral(".pem"));
            QCOMPARE(
                test::runProcess(openssl, test::argList({"genpkey", "-algorithm", "EC", "-pkeyopt",
                                                         "ec_paramgen_curve:P-256", "-out", key}))
                    .exitCode,
                0);
        }
        QCOMPARE(test::runProcess(openssl, test::argList({"pkey", "-in",
                                                          m_dir.filePath(QStringLiteral("key.pem")),
                                                          "-pubout", "-out", pub()}))
                     .exitCode,
                 0);
        const struct {
            const char* name;
            const char* version;
            quint32 seed;
            const char* key;
        } images[] = {
            {"v1", "1.0.0", 1, "key"}, {"v2", "2.0.0", 2, "key"}, {"other", "2.0.0", 3, "other"}};
        for (const auto& i : images) {
            const QString fw = m_dir.filePath(QStringLiteral("fw-") + QString::fromLatin1(i.name));
            QFile f(fw);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(firmware(i.seed));
            f.close();
            const QString key = m_dir.filePath(QString::fromLatin1(i.key) + QStringLiteral(".pem"));
            const auto run = test::ctl({"mcuboot", "sign", fw, "--key", key, "--version", i.version,
                                        "--header-size", "0x200", "--slot-size", "0x20000",
                                        "--pad-header", "-o", image(i.name)});
            QVERIFY2(run.exitCode == 0, run.err.constData());
        }
        // A download that stopped half way.
        QFile whole(image("v2"));
        QVERIFY(whole.open(QIODevice::ReadOnly));
        QFile cut(image("truncated"));
        QVERIFY(cut.open(QIODevice::WriteOnly));
        cut.write(whole.read(whole.size() / 2));
        cut.close();

        m_hub = std::make_unique<link::DeviceHub>(link::LinkContext{},
                                                  QStringList{QStringLiteral(OTAFLEET_PLUGIN_DIR)});
    }

    void cleanupTestCase() { m_hub.reset(); }

    void serialDeviceComesAndGoesWithItsSimulator() {
        auto c = console();
        QVERIFY(c);
        McuSimProcess sim;
        QVERIFY2(sim.start(simDir("hotplug"), pub(), {QStringLiteral("--pty")}),
                 qPrintable(sim.error()));
        QCOMPARE(c->model()->rowCount(), 0);
        const qint64 id = plugIn(*c, sim.pty());
        QVERIFY(id != 0);
        QCOMPARE(c->model()->rowCount(), 1);
        const auto device = c->fleet->device(id);
        QVERIFY(device->attached);
        QVERIFY(device->isMcu());
        QVERIFY2(!device->lastError, qPrintable(errorOf(*device)));
        QCOMPARE(device->snapshot->model, QStringLiteral("mcuboot"));
        const int row = c->model()->rowOf(id);
        QVERIFY(c->model()
                    ->index(row, ui::DeviceTableModel::Name)
                    .data()
                    .toString()
                    .contains(QFileInfo(sim.pty()).fileName()));
        // Attached devices are not written to the fleet's database.
        QVERIFY(c->fleet->store().devices().all()->isEmpty());

        sim.stop();  // unplugged: the pty goes, the device with it
        QTRY_COMPARE_WITH_TIMEOUT(c->model()->rowCount(), 0, kAppearMs);
        QVERIFY(!c->fleet->device(id));
    }

    void stationPortsAreLeftToTheStation() {
        // A station run names its ports by a glob over symlinks (as /dev/serial/by-id does);
        // while it runs, the device list lets go of them, and takes them back afterwards.
        McuSimProcess sim;
        QVERIFY2(sim.start(simDir("station"), pub(), {QStringLiteral("--pty")}),
                 qPrintable(sim.error()));
        auto c = console();
        QVERIFY(c);
        QVERIFY(plugIn(*c, sim.pty()) != 0);
        const QString ports = m_dir.filePath(QStringLiteral("by-id"));
        QVERIFY(QDir().mkpath(ports));
        QVERIFY(QFile::link(sim.pty(), QDir(ports).filePath(QStringLiteral("usb-Acme_unit-1"))));
        c->hotplug->setExcludedPattern(ports + QStringLiteral("/usb-Acme_*"));
        QCOMPARE(c->deviceOf(sim.pty()), 0);
        QTest::qWait(300);  // a few polls: it stays away
        QCOMPARE(c->deviceOf(sim.pty()), 0);
        c->hotplug->setExcludedPattern(ports + QStringLiteral("/usb-Other_*"));
        QVERIFY(c->deviceOf(sim.pty()) != 0);
        c->hotplug->setExcludedPattern({});
        QVERIFY(c->deviceOf(sim.pty()) != 0);
    }

    void slotPaneShowsWhatTheCliReports() {
        McuSimProcess sim;
        QVERIFY2(sim.start(simDir("slots"), pub(),
                           {QStringLiteral("--pty"), QStringLiteral("--udp"),
                            QStringLiteral("127.0.0.1:0")}),
                 qPrintable(sim.error()));
        // v1 confirmed in the primary slot, v2 uploaded (not yet tested) in the secondary.
        QVERIFY(cliInstall(sim.udp(), image("v1"), pub(), true));
        QVERIFY(cliInstall(sim.udp(), image("v2"), pub(), false));
        const QJsonArray images = cliImages(sim.udp());
        QCOMPARE(images.size(), 2);

        auto c = console();
        QVERIFY(c);
        ui::ImageSlotModel* slots = c->window->detailsPane()->imageSlotModel();
        QAbstractItemModelTester tester(slots,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const qint64 id = plugIn(*c, sim.pty());
        QVERIFY(id != 0);
        c->window->selectDevice(id);
        QTRY_COMPARE(slots->rowCount(), images.size());
        QVERIFY(c->window->detailsPane()->imageSlotView()->isVisible());
        for (const QJsonValue& value : images) {
            const QJsonObject cli = value.toObject();
            int row = -1;
            for (int r = 0; r < slots->rowCount(); ++r) {
                if (slots->index(r, ui::ImageSlotModel::Slot)
                        .data()
                        .toString()
                        .startsWith(QString::number(cli.value(QStringLiteral("slot")).toInt())))
                    row = r;
            }
            QVERIFY2(row >= 0, "a slot the CLI reports is missing from the pane");
            const auto cell = [&](int column, int role = Qt::DisplayRole) {
                return slots->index(row, column).data(role);
            };
            QCOMPARE(cell(ui::ImageSlotModel::Version).toString(),
                     cli.value(QStringLiteral("version")).toString());
            QCOMPARE(cell(ui::ImageSlotModel::Hash, ui::ImageSlotModel::FullHashRole).toString(),
                     cli.value(QStringLiteral("hash")).toString());
            QVERIFY(cli.value(QStringLiteral("hash"))
                        .toString()
                        .startsWith(cell(ui::ImageSlotModel::Hash).toString()));
            for (const auto& [column, key] :
                 {std::pair{ui::ImageSlotModel::Active, "active"},
                  std::pair{ui::ImageSlotModel::Confirmed, "confirmed"},
                  std::pair{ui::ImageSlotModel::Pending, "pending"},
                  std::pair{ui::ImageSlotModel::Permanent, "permanent"}}) {
                QCOMPARE(cell(column, ui::ImageSlotModel::FlagRole).toBool(),
                         cli.value(QString::fromLatin1(key)).toBool());
            }
        }
        render(c->window.get(), QStringLiteral("mcu-main-window"));
        render(c->window->detailsPane(), QStringLiteral("mcu-details-pane"));
    }

    void updateRunsUploadTestResetConfirm() {
        McuSimProcess sim;
        QVERIFY2(sim.start(simDir("update"), pub(),
                           {QStringLiteral("--pty"), QStringLiteral("--udp"),
                            QStringLiteral("127.0.0.1:0")}),
                 qPrintable(sim.error()));
        QVERIFY(cliInstall(sim.udp(), image("v1"), pub(), true));
        auto c = console();
        QVERIFY(c);
        const qint64 id = plugIn(*c, sim.pty());
        QVERIFY(id != 0);
        QCOMPARE(c->fleet->device(id)->snapshot->activeVersion(), QStringLiteral("1.0.0"));
        c->window->selectDevice(id);

        ui::UpdateDialog* dialog = c->window->openUpdateDialog();
        QVERIFY(dialog);
        QCOMPARE(dialog->windowTitle(), QStringLiteral("Update MCU device"));
        QSignalSpy checked(dialog, &ui::UpdateDialog::bundleChecked);
        dialog->setBundlePath(image("v2"));
        QVERIFY(checked.wait(10'000));
        QVERIFY(dialog->report());
        QCOMPARE(dialog->report()->format, fleet::BundleReport::Format::McubootImage);
        QVERIFY2(dialog->report()->verified(), qPrintable(dialog->verdictText()));
        QCOMPARE(dialog->report()->version, QStringLiteral("2.0.0"));
        QVERIFY(dialog->canStart());
        render(dialog, QStringLiteral("mcu-update-checked"));

        QStringList phases;
        connect(c->fleet.get(), &fleet::FleetService::operationProgress, dialog,
                [&phases](qint64, const QString& phase, qint64, qint64) {
                    if (phases.isEmpty() || phases.last() != phase)
                        phases.append(phase);
                });
        QSignalSpy done(dialog, &ui::UpdateDialog::updateFinished);
        dialog->start();
        QCOMPARE(dialog->stage(), ui::UpdateDialog::Stage::Running);
        QVERIFY(done.wait(kUpdateMs));
        QVERIFY2(done.first().first().toBool(), qPrintable(dialog->resultText()));
        render(dialog, QStringLiteral("mcu-update-done"));
        QCOMPARE(phases, (QStringList{QStringLiteral("Transferring"), QStringLiteral("Rebooting"),
                                      QStringLiteral("Committing")}));
        QVERIFY(dialog->resultText().contains(QStringLiteral("2.0.0")));
        const auto device = c->fleet->device(id);
        QCOMPARE(device->snapshot->activeVersion(), QStringLiteral("2.0.0"));
        QVERIFY(!device->snapshot->trial);

        // The device itself says so: 2.0.0 active and confirmed in the primary slot.
        bool confirmedNew = false;
        for (const QJsonValue& v : cliImages(sim.udp())) {
            const QJsonObject o = v.toObject();
            if (o.value(QStringLiteral("slot")).toInt() == 0) {
                confirmedNew =
                    o.value(QStringLiteral("version")).toString() == QStringLiteral("2.0.0") &&
                    o.value(QStringLiteral("active")).toBool() &&
                    o.value(QStringLiteral("confirmed")).toBool();
            }
        }
        QVERIFY(confirmedNew);
        dialog->close();
    }

    void cancelStopsTheUpload() {
        // Paced at 115200 baud the upload takes seconds: Cancel lands in the middle of it.
        McuSimProcess sim;
        QVERIFY2(sim.start(
                     simDir("cancel"), pub(),
                     {QStringLiteral("--pty"), QStringLiteral("--baud"), QStringLiteral("115200")}),
                 qPrintable(sim.error()));
        auto c = console();
        QVERIFY(c);
        const qint64 id = plugIn(*c, sim.pty());
        QVERIFY(id != 0);
        c->window->selectDevice(id);
        ui::UpdateDialog* dialog = c->window->openUpdateDialog();
        QSignalSpy checked(dialog, &ui::UpdateDialog::bundleChecked);
        dialog->setBundlePath(image("v2"));
        QVERIFY(checked.wait(10'000));
        connect(c->fleet.get(), &fleet::FleetService::operationProgress, dialog,
                [dialog](qint64, const QString& phase, qint64 done, qint64 total) {
                    if (phase == QLatin1String("Transferring") && done > 0 && done < total &&
                        dialog->stage() == ui::UpdateDialog::Stage::Running &&
                        dialog->phaseText() != QStringLiteral("Cancelling…"))
                        dialog->reject();  // the Cancel button while an update runs
                });
        QSignalSpy done(dialog, &ui::UpdateDialog::updateFinished);
        dialog->start();
        QVERIFY(done.wait(kUpdateMs));
        QVERIFY(!done.first().first().toBool());
        QVERIFY2(dialog->resultText().contains(QStringLiteral("[link.cancelled]")),
                 qPrintable(dialog->resultText()));
        QCOMPARE(dialog->stage(), ui::UpdateDialog::Stage::Failed);
        // Nothing was marked for test: the device still runs what it ran (nothing).
        QTRY_VERIFY_WITH_TIMEOUT(!c->fleet->device(id)->running, kAppearMs);
        QVERIFY(c->fleet->device(id)->snapshot->activeVersion().isEmpty());
        dialog->close();
    }

    void imageRefusedWithItsReason_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("code");
        QTest::newRow("signed by another key")
            << QStringLiteral("other") << QStringLiteral("mcuboot.key-mismatch");
        QTest::newRow("truncated")
            << QStringLiteral("truncated") << QStringLiteral("mcuboot.truncated");
        QTest::newRow("a bundle for an MCU")
            << QStringLiteral("not-a-bundle") << QStringLiteral("update.wrong-kind");
    }

    void imageRefusedWithItsReason() {
        QFETCH(QString, file);
        QFETCH(QString, code);
        McuSimProcess sim;
        QVERIFY2(sim.start(simDir("refused"), pub(), {QStringLiteral("--pty")}),
                 qPrintable(sim.error()));
        auto c = console();
        QVERIFY(c);
        const qint64 id = plugIn(*c, sim.pty());
        QVERIFY(id != 0);
        c->window->selectDevice(id);
        ui::UpdateDialog* dialog = c->window->openUpdateDialog();
        QVERIFY(dialog);
        QString path = image(file.toLatin1().constData());
        if (file == QLatin1String("not-a-bundle")) {
            // Any file that is not an MCUboot image: an MCU device takes nothing else.
            path = m_dir.filePath(QStringLiteral("fw-v1"));
        }
        QSignalSpy checked(dialog, &ui::UpdateDialog::bundleChecked);
        dialog->setBundlePath(path);
        QVERIFY(checked.wait(10'000));
        QCOMPARE(dialog->report()->verdict, fleet::BundleReport::Verdict::Refused);
        QCOMPARE(dialog->report()->error->code, code);
        QVERIFY2(dialog->verdictText().contains(QStringLiteral("[%1]").arg(code)),
                 qPrintable(dialog->verdictText()));
        QVERIFY(!dialog->canStart());
        if (file == QLatin1String("other"))
            render(dialog, QStringLiteral("mcu-update-refused"));
        dialog->close();
    }

    void deviceRefusesWhatTheConsoleCouldNotCheck() {
        // Without a release key the console cannot judge the signature; the device does, and the
        // console says why it refused.
        McuSimProcess sim;
        QVERIFY2(sim.start(simDir("unchecked"), pub(), {QStringLiteral("--pty")}),
                 qPrintable(sim.error()));
        auto c = console();
        QVERIFY(c);
        c->fleet->setReleaseKey({});
        const qint64 id = plugIn(*c, sim.pty());
        QVERIFY(id != 0);
        c->window->selectDevice(id);
        ui::UpdateDialog* dialog = c->window->openUpdateDialog();
        QSignalSpy checked(dialog, &ui::UpdateDialog::bundleChecked);
        dialog->setBundlePath(image("other"));
        QVERIFY(checked.wait(10'000));
        QCOMPARE(dialog->report()->verdict, fleet::BundleReport::Verdict::Unchecked);
        QCOMPARE(dialog->report()->error->code, QStringLiteral("fleet.no-release-key"));
        QVERIFY(dialog->canStart());
        QSignalSpy done(dialog, &ui::UpdateDialog::updateFinished);
        dialog->start();
        QVERIFY(done.wait(kUpdateMs));
        QVERIFY(!done.first().first().toBool());
        qInfo("device refusal: %s", qPrintable(dialog->resultText()));
        // The device's image manager code and MCUboot's reason, both with their codes.
        QVERIFY2(dialog->resultText().contains(QStringLiteral("[smp.image.")) &&
                     dialog->resultText().contains(QStringLiteral("mcuboot.key-mismatch")),
                 qPrintable(dialog->resultText()));
        // Nothing was booted: the device still runs no image.
        QTRY_VERIFY(!c->fleet->device(id)->running);
        QVERIFY(c->fleet->device(id)->snapshot->activeVersion().isEmpty());
        dialog->close();
    }

    void droppedLinkResumesFromTheDevicesOffset() {
        const QString dir = simDir("drop");
        auto c = console();
        QVERIFY(c);
        qint64 resumedAt = -1;
        {
            McuSimProcess sim;
            QVERIFY2(sim.start(dir, pub(),
                               {QStringLiteral("--pty"), QStringLiteral("--drop-at"),
                                QString::number(kDropAt)}),
                     qPrintable(sim.error()));
            const qint64 id = plugIn(*c, sim.pty());
            QVERIFY(id != 0);
            c->window->selectDevice(id);
            ui::UpdateDialog* dialog = c->window->openUpdateDialog();
            QSignalSpy checked(dialog, &ui::UpdateDialog::bundleChecked);
            dialog->setBundlePath(image("v2"));
            QVERIFY(checked.wait(10'000));
            QSignalSpy done(dialog, &ui::UpdateDialog::updateFinished);
            dialog->start();
            QVERIFY(done.wait(kUpdateMs));
            QVERIFY(!done.first().first().toBool());
            qInfo("cable pulled: %s", qPrintable(dialog->resultText()));
            // Whichever is noticed first: the port going away, or the link going quiet.
            const QString result = dialog->resultText();
            QVERIFY2(result.contains(QStringLiteral("[link.device-gone]")) ||
                         result.contains(QStringLiteral("[smp.link-lost]")) ||
                         result.contains(QStringLiteral("[smp.timeout]")),
                     qPrintable(result));
            render(dialog, QStringLiteral("mcu-update-dropped"));
            dialog->close();
            QVERIFY(sim.waitForExit(10'000) >= 0);  // the simulator "unplugged" itself
            QTRY_VERIFY_WITH_TIMEOUT(!c->fleet->device(id), kAppearMs);
        }
        // Plugged in again (a new pty, the same slots): the upload goes on where it stopped.
        McuSimProcess sim;
        QVERIFY2(sim.start(dir, pub(), {QStringLiteral("--pty")}), qPrintable(sim.error()));
        const qint64 id = plugIn(*c, sim.pty());
        QVERIFY(id != 0);
        c->window->selectDevice(id);
        ui::UpdateDialog* dialog = c->window->openUpdateDialog();
        QSignalSpy checked(dialog, &ui::UpdateDialog::bundleChecked);
        dialog->setBundlePath(image("v2"));
        QVERIFY(checked.wait(10'000));
        connect(c->fleet.get(), &fleet::FleetService::operationProgress, dialog,
                [&resumedAt](qint64, const QString& phase, qint64 done, qint64 total) {
                    if (resumedAt < 0 && phase == QLatin1String("Transferring") && total > 0)
                        resumedAt = done;
                });
        QSignalSpy done(dialog, &ui::UpdateDialog::updateFinished);
        dialog->start();
        QVERIFY(done.wait(kUpdateMs));
        QVERIFY2(done.first().first().toBool(), qPrintable(dialog->resultText()));
        QVERIFY2(resumedAt >= kDropAt / 2, qPrintable(QString::number(resumedAt)));
        QCOMPARE(c->fleet->device(id)->snapshot->activeVersion(), QStringLiteral("2.0.0"));
        dialog->close();
    }

    void udpAddress_data() {
        QTest::addColumn<QString>("address");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("IPv4") << QStringLiteral("udp://192.168.1.30:1337") << true;
        QTest::newRow("IPv6") << QStringLiteral("udp://[fd00::30]:1337") << true;
        QTest::newRow("host name") << QStringLiteral("udp://device.local:1337") << false;
        QTest::newRow("no port") << QStringLiteral("udp://192.168.1.30") << false;
        QTest::newRow("port 0") << QStringLiteral("udp://192.168.1.30:0") << false;
        QTest::newRow("port too big") << QStringLiteral("udp://192.168.1.30:70000") << false;
        QTest::newRow("octet too big") << QStringLiteral("udp://192.168.1.300:1337") << false;
        QTest::newRow("a path") << QStringLiteral("udp://192.168.1.30:1337/x") << false;
        QTest::newRow("no //") << QStringLiteral("udp:192.168.1.30:1337") << false;
    }

    void udpAddress() {
        QFETCH(QString, address);
        QFETCH(bool, accepted);
        auto c = console();
        QVERIFY(c);
        ui::AddDeviceDialog dialog(*c->fleet);
        dialog.setAddress(address);
        if (accepted) {
            QVERIFY2(dialog.messageText().isEmpty(), qPrintable(dialog.messageText()));
        } else {
            QVERIFY2(dialog.messageText().contains(QStringLiteral("[link.bad-uri]")),
                     qPrintable(dialog.messageText()));
            QVERIFY(dialog.messageText().contains(QStringLiteral("udp://")) ||
                    dialog.messageText().contains(QStringLiteral("HOST:PORT")));
            dialog.accept();  // refused: stays open, adds nothing
            QCOMPARE(c->fleet->devices().size(), 0);
        }
    }

    void udpDeviceAddedByAddress_data() {
        QTest::addColumn<QString>("listen");
        QTest::newRow("IPv4") << QStringLiteral("127.0.0.1:0");
        QTest::newRow("IPv6") << QStringLiteral("[::1]:0");
    }

    void udpDeviceAddedByAddress() {
        QFETCH(QString, listen);
        McuSimProcess sim;
        if (!sim.start(simDir("udp"), pub(), {QStringLiteral("--udp"), listen})) {
            if (listen.startsWith(QLatin1Char('[')))
                QSKIP("no IPv6 loopback on this machine");
            QFAIL(qPrintable(sim.error()));
        }
        QVERIFY(cliInstall(sim.udp(), image("v1"), pub(), true));
        auto c = console();
        QVERIFY(c);
        ui::AddDeviceDialog dialog(*c->fleet);
        dialog.setAddress(QStringLiteral("udp://") + sim.udp());
        dialog.setDeviceName(QStringLiteral("bench MCU"));
        QVERIFY2(dialog.messageText().isEmpty(), qPrintable(dialog.messageText()));
        dialog.accept();
        const qint64 id = dialog.addedDeviceId();
        QVERIFY(id > 0);  // added by a technician: stored
        QTRY_VERIFY_WITH_TIMEOUT(c->fleet->device(id)->snapshot, kAppearMs);
        const auto device = c->fleet->device(id);
        QVERIFY2(!device->lastError, qPrintable(errorOf(*device)));
        QCOMPARE(device->snapshot->activeVersion(), QStringLiteral("1.0.0"));
        QCOMPARE(
            c->model()->index(c->model()->rowOf(id), ui::DeviceTableModel::SlotA).data().toString(),
            QStringLiteral("1.0.0 (active)"));
    }

    void bleScanFindsTheSimulatedDevice() {
        auto device = mcusim::SimDevice::open(mcusim::SimOptions{
            simDir("ble"), *readFileBounded(pub(), 64 * 1024), QStringLiteral("BLE0001")});
        VERIFY_OK(device);
        mcusim::SimBleLink radio(*device, {});
        const QString address = QStringLiteral("C0:FF:EE:00:10:01");
        auto c = console();
        QVERIFY(c);
        c->window->setBleScannerFactory(
            [&radio, address]() -> Result<std::unique_ptr<link::DeviceScanner>> {
                return std::make_unique<mcusim::SimBleScanner>(QList<mcusim::SimAdvertiser>{
                    {&radio, address, QStringLiteral("otafleet-mcusim"), -48}});
            });

        // A connected peripheral stops advertising: nothing to find.
        VERIFY_OK(radio.connectToDevice());
        QTRY_VERIFY(radio.isReady());
        {
            ui::BleScanDialog dialog(*c->fleet, [&radio, address] {
                return Result<std::unique_ptr<link::DeviceScanner>>(
                    std::make_unique<mcusim::SimBleScanner>(QList<mcusim::SimAdvertiser>{
                        {&radio, address, QStringLiteral("otafleet-mcusim"), -48}}));
            });
            QAbstractItemModelTester tester(dialog.model(),
                                            QAbstractItemModelTester::FailureReportingMode::QtTest);
            dialog.setScanDuration(400);
            QSignalSpy finished(&dialog, &ui::BleScanDialog::scanFinished);
            dialog.startScan();
            QVERIFY(finished.wait(5000));
            QCOMPARE(dialog.model()->rowCount(), 0);
            QVERIFY(dialog.statusText().contains(QStringLiteral("No device")));
        }
        radio.disconnectFromDevice();

        ui::BleScanDialog* dialog = c->window->openBleScanDialog();
        QVERIFY(dialog);
        QAbstractItemModelTester tester(dialog->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy finished(dialog, &ui::BleScanDialog::scanFinished);
        QVERIFY(finished.wait(kBleScanWaitMs));
        QCOMPARE(dialog->model()->rowCount(), 1);
        QCOMPARE(dialog->model()->deviceAt(0).address, address);
        QCOMPARE(dialog->model()->index(0, ui::ScannedDeviceModel::Name).data().toString(),
                 QStringLiteral("otafleet-mcusim"));
        QVERIFY(dialog->statusText().contains(QStringLiteral("Found 1 device.")));
        render(dialog, QStringLiteral("mcu-ble-scan"));
        QSignalSpy added(c->fleet.get(), &fleet::FleetService::deviceAdded);
        dialog->addSelected();
        QCOMPARE(added.size(), 1);
        const auto bleDevice = c->fleet->device(added.first().first().toLongLong());
        QVERIFY(bleDevice);
        QCOMPARE(bleDevice->uri, QStringLiteral("ble:///") + address);
        QCOMPARE(bleDevice->name, QStringLiteral("otafleet-mcusim"));
        QVERIFY(bleDevice->isMcu());
    }

private:
    static constexpr int kBleScanWaitMs = ui::BleScanDialog::kDefaultScanMs + 5000;
    QTemporaryDir m_dir;
    std::unique_ptr<link::DeviceHub> m_hub;
    int m_consoles = 0;
};

QTEST_MAIN(TestMcuConsole)
#include "tst_mcuconsole.moc"
