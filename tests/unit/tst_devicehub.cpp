// DeviceHub with the real LAN plugin from the build tree: metadata is read before anything is
// loaded, only the plugin a scheme needs gets loaded, and bad addresses or unknown schemes come
// back as clear errors. A link to a closed loopback port fails as unreachable, asynchronously.
#include "TestPki.h"
#include "VerifyOk.h"

#include "link/DeviceHub.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace otafleet;
using link::DeviceHub;

namespace {
// A loopback port that nothing listens on (bound, read, released).
int closedPort() {
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 1;
}
}  // namespace

class TestDeviceHub : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;

    link::LinkContext context() const { return {m_pki->pkiDir, {}, {}, {}}; }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.path(), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
    }

    void readsMetadataBeforeLoading() {
        DeviceHub hub(context(), {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        const QList<link::TransportInfo> transports = hub.transports();
        const auto lan = std::find_if(transports.begin(), transports.end(),
                                      [](const auto& t) { return t.scheme == u"lan"; });
        QVERIFY2(lan != transports.end(), "the LAN plugin was not found in OTAFLEET_PLUGIN_DIR");
        QCOMPARE(lan->transport, QStringLiteral("lan"));
        QCOMPARE(
            lan->capabilities,
            QStringList({QStringLiteral("info"), QStringLiteral("update"), QStringLiteral("commit"),
                         QStringLiteral("rollback"), QStringLiteral("reboot")}));
        QVERIFY(!lan->version.isEmpty());
        QVERIFY(lan->pluginPath.endsWith(QStringLiteral(".so")));
        QVERIFY(!hub.isLoaded(QStringLiteral("lan")));

        // Resolving a URI uses metadata only.
        VERIFY_OK(hub.transportFor(QStringLiteral("127.0.0.1:50051")));
        QVERIFY(!hub.isLoaded(QStringLiteral("lan")));

        auto opened = hub.open(QStringLiteral("127.0.0.1:%1").arg(closedPort()));
        VERIFY_OK(opened);
        QVERIFY(hub.isLoaded(QStringLiteral("lan")));
        QCOMPARE((*opened)->capabilities(), lan->capabilities);
    }

    void normalizesAddresses_data() {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");  // empty: link.bad-uri
        QTest::addColumn<QString>("because");   // for a refusal: what the message must say
        const QString lanNeeds = QStringLiteral("must name a host and a port for the LAN scheme");
        QTest::newRow("host:port") << QStringLiteral("192.168.1.20:50051")
                                   << QStringLiteral("lan://192.168.1.20:50051") << QString();
        QTest::newRow("name:port") << QStringLiteral(" bench-7.local:443 ")
                                   << QStringLiteral("lan://bench-7.local:443") << QString();
        QTest::newRow("ipv6") << QStringLiteral("[::1]:50051")
                              << QStringLiteral("lan://[::1]:50051") << QString();
        QTest::newRow("lan uri") << QStringLiteral("lan://10.0.0.5:1")
                                 << QStringLiteral("lan://10.0.0.5:1") << QString();
        QTest::newRow("lan uri, upper-case scheme, slash")
            << QStringLiteral("LAN://10.0.0.5:1/") << QStringLiteral("lan://10.0.0.5:1")
            << QString();
        QTest::newRow("other scheme") << QStringLiteral("serial:///dev/ttyACM0")
                                      << QStringLiteral("serial:///dev/ttyACM0") << QString();
        QTest::newRow("empty") << QString() << QString() << QStringLiteral("empty");
        QTest::newRow("no port") << QStringLiteral("192.168.1.20") << QString()
                                 << QStringLiteral("needs a host and a port");
        QTest::newRow("words") << QStringLiteral("my device") << QString() << QString();
        QTest::newRow("port letters") << QStringLiteral("host:http") << QString() << QString();
        QTest::newRow("too long") << QString(3000, QLatin1Char('a')) + QStringLiteral(":1")
                                  << QString() << QStringLiteral("too long");
        QTest::newRow("bad scheme") << QStringLiteral("1an://x:1") << QString() << QString();
        // Found by fuzz_device_address (corpus/device_address/regression-lan-no-authority): the
        // scheme is followed by a path, not by //HOST:PORT.
        QTest::newRow("fuzz: lan scheme, path holding a URI")
            << QStringLiteral("lan:lan://[:://[::1:%205z1") << QString() << lanNeeds;
        QTest::newRow("lan without //") << QStringLiteral("lan:10.0.0.1:5") << QString()
                                        << QStringLiteral("needs a host and a port");
        QTest::newRow("lan, path before //")
            << QStringLiteral("lan:x://10.0.0.1:5") << QString() << lanNeeds;
        QTest::newRow("lan without host") << QStringLiteral("lan://:5") << QString() << lanNeeds;
        QTest::newRow("lan without port")
            << QStringLiteral("lan://10.0.0.1") << QString() << lanNeeds;
        QTest::newRow("lan port zero")
            << QStringLiteral("lan://10.0.0.1:0") << QString() << lanNeeds;
        QTest::newRow("lan path") << QStringLiteral("lan://10.0.0.1:5/x") << QString()
                                  << QStringLiteral("parts after the port");
        QTest::newRow("lan user") << QStringLiteral("lan://me@10.0.0.1:5") << QString()
                                  << QStringLiteral("parts after the port");
        const QString udpNeeds = QStringLiteral("is not a UDP device address");
        QTest::newRow("udp ipv4") << QStringLiteral("udp://192.168.1.30:1337")
                                  << QStringLiteral("udp://192.168.1.30:1337") << QString();
        QTest::newRow("udp ipv6, slash") << QStringLiteral("udp://[fd00::30]:1337/")
                                         << QStringLiteral("udp://[fd00::30]:1337") << QString();
        QTest::newRow("udp host name")
            << QStringLiteral("udp://device.local:1337") << QString() << udpNeeds;
        QTest::newRow("udp without port")
            << QStringLiteral("udp://192.168.1.30") << QString() << udpNeeds;
        QTest::newRow("udp octet 300")
            << QStringLiteral("udp://192.168.1.300:1337") << QString() << udpNeeds;
        QTest::newRow("udp query") << QStringLiteral("udp://10.0.0.1:1337?x=1") << QString()
                                   << QStringLiteral("parts after the port");
        QTest::newRow("other scheme without //")
            << QStringLiteral("serial:x://y") << QString() << QStringLiteral("followed by //");
    }
    void normalizesAddresses() {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        QFETCH(QString, because);
        auto url = DeviceHub::normalizeUri(input);
        if (expected.isEmpty()) {
            QVERIFY(!url);
            QCOMPARE(url.error().code, QStringLiteral("link.bad-uri"));
            QVERIFY2(url.error().message.contains(QStringLiteral("HOST:PORT")),
                     qPrintable(url.error().message));
            QVERIFY2(url.error().message.contains(because), qPrintable(url.error().message));
        } else {
            VERIFY_OK(url);
            QCOMPARE(url->toString(), expected);
            // What is accepted is a fixed point: stored, it reads back as itself.
            auto again = DeviceHub::normalizeUri(url->toString());
            VERIFY_OK(again);
            QCOMPARE(again->toString(), expected);
        }
    }

    void refusesBadLanUris_data() {
        QTest::addColumn<QString>("uri");
        QTest::newRow("no port") << QStringLiteral("lan://10.0.0.1");
        QTest::newRow("port zero") << QStringLiteral("lan://10.0.0.1:0");
        QTest::newRow("path") << QStringLiteral("lan://10.0.0.1:5/x");
        QTest::newRow("query") << QStringLiteral("lan://10.0.0.1:5?a=b");
        QTest::newRow("user") << QStringLiteral("lan://me@10.0.0.1:5");
    }
    void refusesBadLanUris() {
        QFETCH(QString, uri);
        DeviceHub hub(context(), {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto opened = hub.open(uri);
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, QStringLiteral("link.bad-uri"));
    }

    void unknownSchemeNamesTheAvailableOnes() {
        DeviceHub hub(context(), {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto opened = hub.open(QStringLiteral("zigbee://sensor-1"));  // ble is served now
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, QStringLiteral("link.unknown-scheme"));
        QVERIFY2(opened.error().message.contains(QStringLiteral("lan")),
                 qPrintable(opened.error().message));
    }

    void noPluginsIsExplained() {
        DeviceHub hub(context(), {m_tmp.filePath(QStringLiteral("empty-dir"))});
        QVERIFY(hub.transports().isEmpty());
        auto opened = hub.open(QStringLiteral("127.0.0.1:1"));
        QVERIFY(!opened);
        QCOMPARE(opened.error().code, QStringLiteral("link.unknown-scheme"));
        QVERIFY(opened.error().message.contains(QStringLiteral("no plugins")));
    }

    void missingCredentialsAreExplained() {
        DeviceHub hub(link::LinkContext{m_tmp.filePath(QStringLiteral("no-pki")), {}, {}, {}},
                      {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto opened = hub.open(QStringLiteral("127.0.0.1:1"));
        QVERIFY(!opened);
        QVERIFY2(opened.error().message.contains(QStringLiteral("operator identity")),
                 qPrintable(opened.error().toString()));
    }

    void unreachableDeviceFailsAsynchronously() {
        DeviceHub hub(context(), {QStringLiteral(OTAFLEET_PLUGIN_DIR)});
        auto opened = hub.open(QStringLiteral("127.0.0.1:%1").arg(closedPort()));
        VERIFY_OK(opened);
        link::DeviceLink& device = **opened;
        QSignalSpy finished(&device, &link::DeviceLink::finished);
        QSignalSpy info(&device, &link::DeviceLink::infoReceived);
        VERIFY_OK(device.refresh());
        QVERIFY(device.isBusy());
        QCOMPARE(device.refresh().error().code, QStringLiteral("link.busy"));
        QVERIFY(finished.wait(30000));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(info.count(), 0);
        const auto error = finished.at(0).at(1).value<std::optional<Error>>();
        QVERIFY(error.has_value());
        QVERIFY2(error->code.startsWith(QStringLiteral("link.")), qPrintable(error->toString()));
        QVERIFY(!device.isBusy());
    }
};

QTEST_GUILESS_MAIN(TestDeviceHub)
#include "tst_devicehub.moc"
