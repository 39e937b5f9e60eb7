// ImageUploader and SmpClient against the simulator's device logic in-process, through a loopback
// transport that can lose requests: the uploader must keep several requests in flight, notice
// from the device's offsets that a chunk went missing, resend from there, and end with exactly
// the image in the secondary slot; a new upload of the same image resumes from the device's
// offset instead of starting over.
#include "bundle/McubootImage.h"
#include "crypto/SigningKey.h"
#include "mcusim/SimDevice.h"
#include "smp/ImageUploader.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace otafleet;

namespace {

// Delivers each request to the device in-process and its answer back on the next event-loop
// turn, losing every `dropEvery`-th request (0: none) as a lossy radio or UDP path would.
class LoopbackTransport : public smp::SmpTransport {
public:
    explicit LoopbackTransport(mcusim::SimDevice& device) : m_device(device) {}
    Status open() override { return {}; }
    void close() override {}
    void send(const QByteArray& packet) override {
        ++sent;
        if (dropEvery > 0 && sent % dropEvery == 0) {
            ++dropped;
            return;
        }
        if (client != nullptr) {
            maxInFlight = qMax(maxInFlight, client->inFlight());  // this one included
        }
        const QByteArray answer = m_device.handle(packet).packet;
        QTimer::singleShot(0, this, [this, answer] { Q_EMIT packetReceived(answer); });
    }
    qsizetype maxPacketSize() const override { return 1024; }
    QString description() const override { return QStringLiteral("loopback"); }

    int dropEvery = 0;
    int sent = 0;
    int dropped = 0;
    int maxInFlight = 0;
    const smp::SmpClient* client = nullptr;

private:
    mcusim::SimDevice& m_device;
};

}  // namespace

class TestImageUploader : public QObject {
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
        QByteArray firmware(24 * 1024, '\0');
        for (qsizetype i = 0; i < firmware.size(); ++i) {
            firmware[i] = char((i * 7919) >> 3);
        }
        bundle::mcuboot::SignOptions options;
        options.headerSize = 0x200;
        options.slotSize = 0x20000;
        options.padHeader = true;
        const auto image = bundle::mcuboot::signImage(firmware, options, *signer);
        QVERIFY(image.has_value());
        m_image = *image;
    }

    void lostRequestsAreResentFromTheDeviceOffset_data() {
        QTest::addColumn<int>("dropEvery");
        QTest::addColumn<int>("window");
        QTest::newRow("no loss, 1 in flight") << 0 << 1;
        QTest::newRow("no loss, 4 in flight") << 0 << 4;
        QTest::newRow("every 7th lost, 4 in flight") << 7 << 4;
        QTest::newRow("every 5th lost, 2 in flight") << 5 << 2;
    }

    void lostRequestsAreResentFromTheDeviceOffset() {
        QFETCH(int, dropEvery);
        QFETCH(int, window);
        auto device = openDevice(QStringLiteral("loss-%1-%2").arg(dropEvery).arg(window));
        QVERIFY(device.has_value());
        LoopbackTransport transport(*device);
        transport.dropEvery = dropEvery;
        smp::SmpClient client(transport);
        transport.client = &client;
        // Answers come on the next event-loop turn; a late one only costs a retransmission.
        client.setTimeout(20);
        client.setRetries(3);
        smp::ImageUploader uploader(client);
        QSignalSpy succeeded(&uploader, &smp::ImageUploader::succeeded);
        QSignalSpy failed(&uploader, &smp::ImageUploader::failed);
        uploader.start(m_image, window);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(succeeded.wait(20'000));
        qInfo("sent %d dropped %d in %lld ms", transport.sent, transport.dropped, clock.elapsed());
        QCOMPARE(failed.count(), 0);
        QCOMPARE(uploader.window(), window);
        QVERIFY(transport.maxInFlight <= window);
        if (window > 1) {
            QVERIFY(transport.maxInFlight > 1);  // several requests really were outstanding
        }
        if (dropEvery > 0) {
            QVERIFY(transport.dropped > 0);
        }
        // The device checked the image and holds it, byte for byte.
        const auto slots = device->slots().states();
        QCOMPARE(slots.size(), 1);
        QCOMPARE(slots.first().slot, 1);
        QCOMPARE(readSlot(QStringLiteral("loss-%1-%2").arg(dropEvery).arg(window)), m_image);
    }

    void anInterruptedUploadResumes() {
        const QString name = QStringLiteral("resume");
        auto device = openDevice(name, 10'000);  // the link drops at 10000 bytes
        QVERIFY(device.has_value());
        {
            LoopbackTransport transport(*device);
            smp::SmpClient client(transport);
            client.setTimeout(50);
            client.setRetries(0);
            smp::ImageUploader uploader(client);
            QSignalSpy failed(&uploader, &smp::ImageUploader::failed);
            uploader.start(m_image, 1);
            QVERIFY(failed.wait(5000));
            QCOMPARE(failed.first().first().value<Error>().code, QStringLiteral("smp.timeout"));
        }
        // A new session with the same device state (as after a restart): resume, not restart.
        auto again = openDevice(name);
        QVERIFY(again.has_value());
        LoopbackTransport transport(*again);
        smp::SmpClient client(transport);
        smp::ImageUploader uploader(client);
        QSignalSpy succeeded(&uploader, &smp::ImageUploader::succeeded);
        uploader.start(m_image, 2);
        QVERIFY(succeeded.wait(5000));
        QVERIFY2(uploader.resumedFrom() >= 10'000,
                 qPrintable(QString::number(uploader.resumedFrom())));
        QCOMPARE(readSlot(name), m_image);
    }

private:
    Result<mcusim::SimDevice> openDevice(const QString& name, qint64 dropAt = -1) {
        mcusim::SimOptions options;
        options.dir = m_dir.filePath(name);
        options.publicKeyPem = m_publicKey;
        options.bufSize = 512;
        options.bufCount = 4;
        options.dropAtOffset = dropAt;
        return mcusim::SimDevice::open(options);
    }
    QByteArray readSlot(const QString& name) const {
        QFile f(m_dir.filePath(name + QStringLiteral("/slot1.bin")));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    QTemporaryDir m_dir;
    QByteArray m_publicKey;
    QByteArray m_image;
};

QTEST_GUILESS_MAIN(TestImageUploader)
#include "tst_imageuploader.moc"
