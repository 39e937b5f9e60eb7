// What the console shows before a push: fleet::inspectBundle on real bundles signed by a real
// test PKI (PEM keys), one row per verdict, and EmbeddedFleet::inspectBundle running it off the
// GUI thread and checking against the device's last report.
#include "TestBundles.h"
#include "TestPki.h"
#include "VerifyOk.h"

#include "crypto/Certificate.h"
#include "fleet/BundleInspection.h"
#include "fleet/EmbeddedFleet.h"
#include "link/DeviceHub.h"
#include "store/FleetStore.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace otafleet;
using fleet::BundleReport;

class TestBundleInspection : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::optional<test::TestPki> m_pki;    // the fleet's PKI
    std::optional<test::TestPki> m_other;  // someone else's: its signer is not trusted
    QString m_valid;                       // 1.1.0 for rev-a, security version 3
    QString m_untrusted;

    QString root() const { return QDir(m_pki->pkiDir).filePath(QStringLiteral("root-ca.pem")); }

    // A copy of the valid bundle with `edit` applied to its bytes.
    QString editedCopy(const QString& name, const std::function<void(QByteArray&)>& edit) const {
        QFile in(m_valid);
        if (!in.open(QIODevice::ReadOnly))
            return {};
        QByteArray bytes = in.readAll();
        edit(bytes);
        const QString path = m_tmp.filePath(name);
        QFile out(path);
        if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size())
            return {};
        return path;
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        auto pki = test::TestPki::create(m_tmp.filePath(QStringLiteral("fleet")), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto other = test::TestPki::create(m_tmp.filePath(QStringLiteral("other")), false);
        VERIFY_OK(other);
        m_other = std::move(*other);
        test::TestBundleSpec spec;
        spec.securityVersion = 3;
        spec.payloadSize = 64 * 1024;
        auto valid = test::makeSignedBundle(*m_pki, m_tmp.path(), spec);
        VERIFY_OK(valid);
        m_valid = *valid;
        QDir().mkpath(m_tmp.filePath(QStringLiteral("untrusted")));
        auto untrusted =
            test::makeSignedBundle(*m_other, m_tmp.filePath(QStringLiteral("untrusted")), spec);
        VERIFY_OK(untrusted);
        m_untrusted = *untrusted;
    }

    void reportsManifestAndSigner() {
        fleet::BundleCheck check;
        check.bundlePath = m_valid;
        check.trustPemPath = root();
        check.deviceId = 7;
        check.hardware = QStringLiteral("rev-a");
        check.minSecurityVersion = 3;
        const BundleReport r = fleet::inspectBundle(check);
        QVERIFY2(r.verified(), qPrintable(r.verdictSentence()));
        QVERIFY(!r.error);
        QCOMPARE(r.deviceId, 7);
        QVERIFY(r.manifestRead);
        QCOMPARE(r.version, QStringLiteral("1.1.0"));
        QCOMPARE(r.securityVersion, 3u);
        QCOMPARE(r.hardware, QStringList{QStringLiteral("rev-a")});
        QVERIFY(r.created.isValid());
        QCOMPARE(r.payloads.size(), 1);
        QCOMPARE(r.payloads.first().name, QStringLiteral("rootfs"));
        QCOMPARE(r.payloads.first().size, quint64{64 * 1024});
        QCOMPARE(r.payloads.first().encoding, QStringLiteral("raw"));

        auto signer = m_pki->pki.releaseSignerCertificate();
        VERIFY_OK(signer);
        QCOMPARE(r.signers.size(), 1);
        QCOMPARE(r.signers.first().subject, signer->subject());
        QCOMPARE(r.signers.first().keyId, signer->subjectKeyId());
        QVERIFY(!r.signers.first().keyId.isEmpty());
        QCOMPARE(r.signers.first().notAfter, signer->notAfter());
        // Release CA, then the root the console trusts.
        QCOMPARE(r.signers.first().chain.size(), 2);
        QCOMPARE(r.signers.first().chain.first(), signer->issuer());
        auto anchor = crypto::Certificate::loadPemFile(root());
        VERIFY_OK(anchor);
        QCOMPARE(r.signers.first().chain.last(), anchor->first().subject());
        QVERIFY(r.verdictSentence().contains(QStringLiteral("verified for hardware rev-a")));
        QVERIFY(r.verdictSentence().contains(signer->commonName()));
    }

    void refusals_data() {
        QTest::addColumn<QString>("which");
        QTest::addColumn<QString>("hardware");
        QTest::addColumn<quint64>("minSecurityVersion");
        QTest::addColumn<QString>("code");
        QTest::addColumn<bool>("manifestRead");
        QTest::addColumn<bool>("signersShown");

        QTest::newRow("other hardware")
            << "valid"
            << "rev-b" << quint64{0} << "bundle.wrong-hardware" << true << true;
        QTest::newRow("rollback") << "valid"
                                  << "rev-a" << quint64{4} << "bundle.rollback" << true << true;
        QTest::newRow("untrusted signer")
            << "untrusted"
            << "rev-a" << quint64{0} << "crypto.untrusted-signer" << true << false;
        QTest::newRow("payload bit flip")
            << "flipped"
            << "rev-a" << quint64{0} << "bundle.payload-corrupted" << true << true;
        QTest::newRow("truncated") << "truncated"
                                   << "" << quint64{0} << "bundle.truncated" << false << false;
        QTest::newRow("not a bundle")
            << "text"
            << "" << quint64{0} << "bundle.not-a-bundle" << false << false;
    }

    void refusals() {
        QFETCH(QString, which);
        QFETCH(QString, hardware);
        QFETCH(quint64, minSecurityVersion);
        QFETCH(QString, code);
        QFETCH(bool, manifestRead);
        QFETCH(bool, signersShown);
        QString path = m_valid;
        if (which == QLatin1String("untrusted"))
            path = m_untrusted;
        else if (which == QLatin1String("flipped"))
            path = editedCopy(QStringLiteral("flipped.otab"), [](QByteArray& b) { b.back() ^= 1; });
        else if (which == QLatin1String("truncated"))
            path = editedCopy(QStringLiteral("cut.otab"), [](QByteArray& b) { b.chop(100); });
        else if (which == QLatin1String("text"))
            path = editedCopy(QStringLiteral("notes.otab"), [](QByteArray& b) {
                b = QByteArrayLiteral("These are release notes, not a bundle.\n");
            });
        QVERIFY(!path.isEmpty());

        fleet::BundleCheck check;
        check.bundlePath = path;
        check.trustPemPath = root();
        check.hardware = hardware;
        check.minSecurityVersion = minSecurityVersion;
        const BundleReport r = fleet::inspectBundle(check);
        QCOMPARE(r.verdict, BundleReport::Verdict::Refused);
        QVERIFY(r.error);
        QCOMPARE(r.error->code, code);
        QCOMPARE(r.manifestRead, manifestRead);
        QCOMPARE(!r.signers.isEmpty(), signersShown);
        QVERIFY(r.verdictSentence().contains(QStringLiteral("[%1]").arg(code)));
        QVERIFY(r.verdictSentence().size() > code.size() + 30);  // a sentence, not just a code
    }

    void withoutTrustIsUncheckedNotRefused() {
        fleet::BundleCheck check;
        check.bundlePath = m_valid;
        check.trustPemPath = m_tmp.filePath(QStringLiteral("missing/root-ca.pem"));
        const BundleReport r = fleet::inspectBundle(check);
        QCOMPARE(r.verdict, BundleReport::Verdict::Unchecked);
        QVERIFY(r.manifestRead);
        QCOMPARE(r.error->code, QStringLiteral("fleet.no-release-trust"));
        QVERIFY(r.signers.isEmpty());
    }

    // The fleet runs the check on a worker thread and answers with bundleInspected; a device
    // that never reported is checked as a workstation would, an unknown one likewise.
    void fleetInspectsAsynchronously() {
        auto store = store::FleetStore::open(m_tmp.filePath(QStringLiteral("fleet.sqlite")));
        VERIFY_OK(store);
        link::DeviceHub hub(link::LinkContext{m_pki->pkiDir, {}, {}, {}}, {});
        auto fleet = fleet::EmbeddedFleet::create(std::move(*store), hub);
        VERIFY_OK(fleet);
        (*fleet)->setTrustedRootFile(root());
        QSignalSpy inspected(fleet->get(), &fleet::FleetService::bundleInspected);
        (*fleet)->inspectBundle(m_valid, 0);
        (*fleet)->inspectBundle(m_untrusted, 0);
        QCOMPARE(inspected.size(), 0);  // the calls returned before any check finished
        QTRY_COMPARE_WITH_TIMEOUT(inspected.size(), 2, 30000);
        for (const QList<QVariant>& args : std::as_const(inspected)) {
            const auto report = args.at(1).value<BundleReport>();
            QCOMPARE(args.at(0).toString(), report.path);
            if (report.path == m_valid)
                QVERIFY2(report.verified(), qPrintable(report.verdictSentence()));
            else
                QCOMPARE(report.error->code, QStringLiteral("crypto.untrusted-signer"));
        }
        // A pending inspection does not keep the fleet from being destroyed.
        (*fleet)->inspectBundle(m_valid, 0);
        fleet->reset();
    }
};

QTEST_GUILESS_MAIN(TestBundleInspection)
#include "tst_bundleinspection.moc"
