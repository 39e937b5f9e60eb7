// SMP over Bluetooth LE end to end without a radio: BleTransport (the code the ble plugin runs
// over Qt Bluetooth) on SimBleLink, the in-process GATT link whose far end is the simulator's
// device (SimDevice, the same request handling as otafleet-mcusim's pty and UDP servers). Checks
// what a radio link must get right and a test can see: writes never exceed MTU - 3, the MTU the
// exchange settles on is used once it is known, answers split across notifications come back
// whole, an upload resumes from the device's offset after the link drops, and an update runs
// upload, test, reset (which drops the connection), reconnect and confirm.
#include "bundle/McubootImage.h"
#include "crypto/SigningKey.h"
#include "mcusim/SimBleLink.h"
#include "mcusim/SimDevice.h"
#include "smp/BleTransport.h"
#include "smp/ImageUploader.h"
#include "smp/SmpDeviceLink.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace otafleet;

namespace {

constexpr int kWaitMs = 20'000;

// One simulated device and the BLE transport that reaches it.
struct Bench {
    std::unique_ptr<mcusim::SimDevice> device;  // the link holds a reference: never moves
    mcusim::SimBleLink* link = nullptr;         // owned by transport
    std::unique_ptr<smp::BleTransport> transport;
};

Result<QByteArray> call(smp::SmpClient& client, const smp::Request& request) {
    std::optional<Result<QCborMap>> answer;
    client.call(request, [&answer](Result<QCborMap> body) { answer = std::move(body); });
    (void)QTest::qWaitFor([&answer] { return answer.has_value(); }, kWaitMs);
    if (!answer || !*answer) {
        return fail(answer ? answer->error() : Error{QStringLiteral("test.no-answer"), {}});
    }
    return (*answer)->toCborValue().toCbor();
}

}  // namespace

class TestBleTransport : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        EVP_PKEY* key = EVP_EC_gen("P-256");
        QVERIFY(key != nullptr);
        BIO* bio = BIO_new(BIO_s_mem());
        QVERIFY(PEM_write_bio_PUBKEY(bio, key) == 1);
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        m_publicKey = QByteArray(data, int(size));
        BIO_free(bio);
        auto signer = crypto::SigningKey::fromEvpKey(key, QStringLiteral("test key"));
        EVP_PKEY_free(key);
        QVERIFY(signer != nullptr);
        m_image = sign(*signer, 20 * 1024, QStringLiteral("1.2.3"));
        QVERIFY(!m_image.isEmpty());
        m_imagePath = m_dir.filePath(QStringLiteral("v1.2.3.img"));
        QFile file(m_imagePath);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(m_image), m_image.size());
    }

    void stateReadOverEveryMtu_data() {
        QTest::addColumn<int>("peripheralMtu");
        QTest::addColumn<int>("notificationLimit");
        QTest::addColumn<int>("mtu");
        QTest::newRow("MTU 23") << 23 << 0 << 23;
        QTest::newRow("MTU 247") << 247 << 0 << 247;
        QTest::newRow("MTU 247, device notifies 20 bytes at a time") << 247 << 20 << 247;
        QTest::newRow("MTU 65") << 65 << 0 << 65;
    }

    // The image state (what `mcu info` prints) through SmpDeviceLink, as the console reads it.
    void stateReadOverEveryMtu() {
        QFETCH(int, peripheralMtu);
        QFETCH(int, notificationLimit);
        QFETCH(int, mtu);
        mcusim::SimBleOptions ble;
        ble.peripheralMtu = peripheralMtu;
        ble.notificationLimit = notificationLimit;
        auto bench =
            open(QStringLiteral("info-%1-%2").arg(peripheralMtu).arg(notificationLimit), ble);
        QVERIFY(bench.device != nullptr);
        // Put an image in the secondary slot first, so the state answer is long.
        {
            smp::SmpClient client(*bench.transport);
            QVERIFY(bench.transport->open().has_value());
            smp::ImageUploader uploader(client);
            QSignalSpy succeeded(&uploader, &smp::ImageUploader::succeeded);
            uploader.start(m_image);
            QVERIFY(succeeded.wait(kWaitMs));
            bench.transport->close();
        }
        auto* transport = bench.transport.get();
        mcusim::SimBleLink* link = bench.link;
        smp::SmpDeviceLink device(QStringLiteral("ble:///C0:FF:EE:00:00:01"),
                                  std::move(bench.transport));
        QSignalSpy info(&device, &link::DeviceLink::infoReceived);
        QSignalSpy finished(&device, &link::DeviceLink::finished);
        QVERIFY(device.refresh().has_value());
        QVERIFY(finished.wait(kWaitMs));
        const auto error = finished.first().at(1).value<std::optional<Error>>();
        QVERIFY2(!error.has_value(), qPrintable(error ? error->toString() : QString()));
        QCOMPARE(info.count(), 1);
        const auto snapshot = info.first().first().value<link::DeviceSnapshot>();
        const link::SlotSnapshot* secondary = snapshot.slot(QStringLiteral("secondary"));
        QVERIFY(secondary != nullptr);
        QCOMPARE(secondary->version, QStringLiteral("1.2.3"));

        const auto& counters = link->counters();
        QCOMPARE(link->mtu(), mtu);
        QCOMPARE(counters.oversizeWrites, 0);
        QVERIFY(counters.largestWrite <= mtu - 3);
        QVERIFY(counters.largestNotification <= mtu - 3);
        if (notificationLimit > 0) {
            QVERIFY(counters.largestNotification <= notificationLimit);
        }
        if (mtu > 23) {
            // The exchanged MTU was used, not the default 23.
            QVERIFY2(counters.largestWrite > 20,
                     qPrintable(QString::number(counters.largestWrite)));
        }
        // Answers took several notifications, and each came back whole.
        QVERIFY(counters.responsesSplit > 0);
        QCOMPARE(transport->reassemblyErrors(), 0);
    }

    void anUploadResumesAfterTheLinkDrops_data() {
        QTest::addColumn<int>("peripheralMtu");
        QTest::newRow("MTU 23") << 23;
        QTest::newRow("MTU 247") << 247;
    }

    void anUploadResumesAfterTheLinkDrops() {
        QFETCH(int, peripheralMtu);
        mcusim::SimBleOptions ble;
        ble.peripheralMtu = peripheralMtu;
        const QString name = QStringLiteral("resume-%1").arg(peripheralMtu);
        auto bench = open(name, ble, 8'000);  // the connection drops at 8000 bytes
        QVERIFY(bench.device != nullptr);
        QVERIFY(bench.transport->open().has_value());
        smp::SmpClient client(*bench.transport);
        {
            smp::ImageUploader uploader(client);
            QSignalSpy failed(&uploader, &smp::ImageUploader::failed);
            uploader.start(m_image, 2);
            QVERIFY(failed.wait(kWaitMs));
            QCOMPARE(failed.first().first().value<Error>().code, QStringLiteral("smp.link-lost"));
        }
        QCOMPARE(bench.link->counters().drops, 1);
        // The next run connects again (on its first request) and continues where the device is.
        smp::ImageUploader uploader(client);
        QSignalSpy succeeded(&uploader, &smp::ImageUploader::succeeded);
        QSignalSpy failed(&uploader, &smp::ImageUploader::failed);
        uploader.start(m_image, 2);
        QVERIFY(succeeded.wait(kWaitMs));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(bench.link->counters().connects, 2);
        QVERIFY2(uploader.resumedFrom() >= 8'000 && uploader.resumedFrom() < m_image.size(),
                 qPrintable(QString::number(uploader.resumedFrom())));
        QCOMPARE(bench.link->counters().oversizeWrites, 0);
        QCOMPARE(readSlot(name, 1), m_image);
    }

    // Upload, mark for test, reset (the device ends the connection and reboots), reconnect,
    // confirm: what `mcu upload --confirm` and the console's Update… do.
    void testResetConfirm() {
        auto bench = open(QStringLiteral("update"), {});
        QVERIFY(bench.device != nullptr);
        mcusim::SimBleLink* link = bench.link;
        smp::SmpDeviceLink device(QStringLiteral("ble:///C0:FF:EE:00:00:02"),
                                  std::move(bench.transport));
        QSignalSpy finished(&device, &link::DeviceLink::finished);
        QSignalSpy info(&device, &link::DeviceLink::infoReceived);
        QVERIFY(device.pushUpdate(m_imagePath, link::UpdateOptions{}).has_value());
        QVERIFY(finished.wait(kWaitMs));
        const auto error = finished.first().at(1).value<std::optional<Error>>();
        QVERIFY2(!error.has_value(), qPrintable(error ? error->toString() : QString()));
        const auto snapshot = info.last().first().value<link::DeviceSnapshot>();
        const link::SlotSnapshot* primary = snapshot.slot(QStringLiteral("primary"));
        QVERIFY(primary != nullptr);
        QCOMPARE(primary->version, QStringLiteral("1.2.3"));
        QCOMPARE(snapshot.activeVersion(), QStringLiteral("1.2.3"));
        QVERIFY(!snapshot.trial);  // confirmed
        // The reset ended the connection and the link found the device again.
        QVERIFY(link->counters().drops >= 1);
        QVERIFY(link->counters().connects >= 2);
        // What the device itself says: the new image runs from the primary slot, confirmed.
        const auto states = bench.device->slots().states();
        const auto running =
            std::find_if(states.cbegin(), states.cend(), [](const auto& s) { return s.active; });
        QVERIFY(running != states.cend());
        QCOMPARE(running->slot, 0);
        QCOMPARE(running->version, QStringLiteral("1.2.3"));
        QVERIFY(running->confirmed);
    }

    // A test image that is not confirmed reverts at the next reset, reached again over BLE.
    void anUnconfirmedImageRevertsAfterReset() {
        auto bench = open(QStringLiteral("revert"), {});
        QVERIFY(bench.device != nullptr);
        smp::SmpDeviceLink device(QStringLiteral("ble:///C0:FF:EE:00:00:03"),
                                  std::move(bench.transport));
        QSignalSpy finished(&device, &link::DeviceLink::finished);
        link::UpdateOptions options;
        options.commit = false;
        QVERIFY(device.pushUpdate(m_imagePath, options).has_value());
        QVERIFY(finished.wait(kWaitMs));
        QVERIFY(!finished.last().at(1).value<std::optional<Error>>().has_value());
        QCOMPARE(activeVersion(*bench.device), QStringLiteral("1.2.3"));
        QVERIFY(device.reboot().has_value());
        QVERIFY(finished.wait(kWaitMs));
        QVERIFY(!finished.last().at(1).value<std::optional<Error>>().has_value());
        QVERIFY(activeVersion(*bench.device) != QStringLiteral("1.2.3"));
    }

    // Data that is not SMP arriving as a notification is dropped with its code; the link keeps
    // working.
    void garbageNotificationsAreDropped() {
        auto bench = open(QStringLiteral("garbage"), {});
        QVERIFY(bench.device != nullptr);
        QVERIFY(bench.transport->open().has_value());
        smp::SmpClient client(*bench.transport);
        QVERIFY(call(client, smp::os::echo(QStringLiteral("before"))).has_value());
        Q_EMIT bench.link->notified(QByteArrayLiteral("\xff\xff garbage from a confused stack"));
        QCOMPARE(bench.transport->reassemblyErrors(), 1);
        QCOMPARE(bench.transport->lastReassemblyError().code, QStringLiteral("smp.ble-bad-header"));
        const auto echo = call(client, smp::os::echo(QStringLiteral("after")));
        QVERIFY(echo.has_value());
        QVERIFY(echo->contains("after"));
    }

    // Requests sent before the connection is up wait for it, and go out at the MTU then known.
    void requestsWaitForTheConnection() {
        mcusim::SimBleOptions ble;
        ble.exchangeMtu = false;
        auto bench = open(QStringLiteral("waiting"), ble);
        QVERIFY(bench.device != nullptr);
        QVERIFY(bench.transport->open().has_value());
        QVERIFY(!bench.link->isReady());
        smp::SmpClient client(*bench.transport);
        const auto echo = call(client, smp::os::echo(QString(300, QLatin1Char('e'))));
        QVERIFY(echo.has_value());
        QCOMPARE(bench.link->mtu(), 23);
        QCOMPARE(bench.link->counters().largestWrite, 20);
        QCOMPARE(bench.link->counters().oversizeWrites, 0);
    }

private:
    QByteArray sign(crypto::SigningKey& signer, int firmwareSize, const QString& version) {
        QByteArray firmware(firmwareSize, '\0');
        for (qsizetype i = 0; i < firmware.size(); ++i) {
            firmware[i] = char((i * 7919) >> 3);
        }
        bundle::mcuboot::SignOptions options;
        options.version = *bundle::mcuboot::ImageVersion::parse(version);
        options.headerSize = 0x200;
        options.slotSize = 0x20000;
        options.padHeader = true;
        const auto image = bundle::mcuboot::signImage(firmware, options, signer);
        return image ? *image : QByteArray();
    }

    Bench open(const QString& name, mcusim::SimBleOptions ble, qint64 dropAt = -1) {
        mcusim::SimOptions options;
        options.dir = m_dir.filePath(name);
        options.publicKeyPem = m_publicKey;
        options.bufSize = 2048;
        options.bufCount = 4;
        options.dropAtOffset = dropAt;
        Bench bench;
        auto device = mcusim::SimDevice::open(options);
        if (!device) {
            qWarning("%s", qPrintable(device.error().toString()));
            return bench;
        }
        bench.device = std::make_unique<mcusim::SimDevice>(std::move(*device));
        auto link = std::make_unique<mcusim::SimBleLink>(*bench.device, ble);
        bench.link = link.get();
        bench.transport = std::make_unique<smp::BleTransport>(std::move(link));
        return bench;
    }

    static QString activeVersion(const mcusim::SimDevice& device) {
        for (const auto& state : device.slots().states()) {
            if (state.active) {
                return state.version;
            }
        }
        return {};
    }

    QByteArray readSlot(const QString& name, int slot) const {
        QFile f(m_dir.filePath(name + QStringLiteral("/slot%1.bin").arg(slot)));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    QTemporaryDir m_dir;
    QByteArray m_publicKey;
    QByteArray m_image;
    QString m_imagePath;
};

QTEST_GUILESS_MAIN(TestBleTransport)
#include "tst_bletransport.moc"
