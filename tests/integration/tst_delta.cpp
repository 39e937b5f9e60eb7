// Delta updates on a real agent: a full (zstd-compressed) 1.1.0 is pushed, then a signed zstd-patch
// delta 1.1.0 -> 1.2.0, which the agent applies from its active slot into the other one and checks
// against the target hash; a delta made against another base is refused before any write.
#include "AgentTestBase.h"

#include "bundle/Delta.h"

using namespace agenttest;

namespace {

QByteArray noise(qsizetype size, quint32 seed) {
    QByteArray bytes(size, '\0');
    quint32 x = 2463534242U ^ seed;
    for (qsizetype i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes[i] = static_cast<char>(x);
    }
    return bytes;
}

}  // namespace

class TestDelta : public AgentTestBase {
    Q_OBJECT

private:
    // A signed full bundle holding `payload`.
    Result<QString> release(const QString& version, const QByteArray& payload,
                            bundle::Encoding encoding = bundle::Encoding::Raw) {
        const QString base = m_tmp.filePath(QStringLiteral("release-%1").arg(version));
        QFile file(base + QStringLiteral(".bin"));
        if (!file.open(QIODevice::WriteOnly) || file.write(payload) != payload.size())
            return fail(QStringLiteral("test.io"), file.fileName());
        file.close();
        bundle::CreateOptions o;
        o.version = *SemVer::parse(version);
        o.securityVersion = 1;
        o.hardware = {QStringLiteral("rev-a")};
        o.payloads = {bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"),
                                           file.fileName(), encoding}};
        const QString path = base + QStringLiteral(".otab");
        if (auto ok = bundle::createBundle(o, path); !ok)
            return fail(ok.error());
        if (auto ok = sign(path); !ok)
            return fail(ok.error());
        return path;
    }

    Status sign(const QString& path) {
        auto key = m_pki->pki.openReleaseKey(m_pki->pinProvider());
        auto cert = m_pki->pki.releaseSignerCertificate();
        auto chain = m_pki->pki.releaseSignerChain();
        if (!key || !cert || !chain)
            return fail(!key ? key.error() : !cert ? cert.error() : chain.error());
        return bundle::signBundle(path, **key, *cert, *chain);
    }

    Result<QString> delta(const QString& from, const QString& to, const QString& name) {
        const QString path = m_tmp.filePath(name + QStringLiteral(".otab"));
        bundle::DeltaOptions options;
        options.level = 3;
        if (auto made = bundle::createDelta(from, to, path, options); !made)
            return fail(made.error());
        if (auto ok = sign(path); !ok)
            return fail(ok.error());
        return path;
    }

private Q_SLOTS:
    void initTestCase() { setUpFleets(); }

    void appliesDeltaAndRefusesWrongBase() {
        auto agent = newAgent();
        QVERIFY(agent);
        auto client = clientFor(*agent);
        QVERIFY(client);

        const QByteArray v110 = noise(1536 * 1024, 11);
        QByteArray v120 = v110;
        v120.replace(200000, 4096, noise(4096, 12));
        v120.insert(900000, noise(10000, 13));
        // The full release is zstd-compressed: the agent decodes it on the way into the slot.
        auto full = release(QStringLiteral("1.1.0"), v110, bundle::Encoding::Zstd);
        VERIFY_OK(full);
        auto next = release(QStringLiteral("1.2.0"), v120);
        VERIFY_OK(next);
        auto patch = delta(*full, *next, QStringLiteral("delta-110-120"));
        VERIFY_OK(patch);
        QVERIFY(QFileInfo(*patch).size() < v120.size() / 20);

        auto pushed = client->push(*full, PushOptions{}, {});
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeSlot, QStringLiteral("B"));
        QCOMPARE(pushed->activeVersion(), QStringLiteral("1.1.0"));
        QFile slotB(QDir(agent->dir()).filePath(QStringLiteral("slots/slot-b.img")));
        QVERIFY(slotB.open(QIODevice::ReadOnly));
        QCOMPARE(crypto::Sha256::hash(slotB.readAll()), crypto::Sha256::hash(v110));
        slotB.close();

        pushed = client->push(*patch, PushOptions{}, {});
        VERIFY_OK(pushed);
        QCOMPARE(pushed->activeSlot, QStringLiteral("A"));
        QCOMPARE(pushed->activeVersion(), QStringLiteral("1.2.0"));
        QVERIFY(!pushed->trial);
        QFile slotA(QDir(agent->dir()).filePath(QStringLiteral("slots/slot-a.img")));
        QVERIFY(slotA.open(QIODevice::ReadOnly));
        QCOMPARE(crypto::Sha256::hash(slotA.readAll()), crypto::Sha256::hash(v120));
        slotA.close();

        // A delta to 1.3.0 made against a 1.1.5 this device never ran: refused before any
        // write, slots and boot state byte-identical.
        auto other = release(QStringLiteral("1.1.5"), noise(1536 * 1024, 15));
        VERIFY_OK(other);
        QByteArray v130 = v120;
        v130.replace(0, 512, noise(512, 14));
        auto newer = release(QStringLiteral("1.3.0"), v130);
        VERIFY_OK(newer);
        auto wrong = delta(*other, *newer, QStringLiteral("delta-115-130"));
        VERIFY_OK(wrong);
        const auto before = deviceFiles(agent->dir());
        auto id = AgentClient::transferIdFor(*wrong);
        VERIFY_OK(id);
        VERIFY_OK(client->upload(*wrong, *id, 256 * 1024, {}));
        auto installed = client->install(*id, {});
        QVERIFY(!installed);
        QCOMPARE(installed.error().code, QStringLiteral("bundle.delta-base-mismatch"));
        QCOMPARE(deviceFiles(agent->dir()), before);
        auto info = client->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeVersion(), QStringLiteral("1.2.0"));
        QCOMPARE(info->lastErrorCode, QStringLiteral("bundle.delta-base-mismatch"));

        // The agent's boot verifier accepts the slot a delta wrote (it hashes the target).
        agent->kill();
        VERIFY_OK(agent->start());
        info = clientFor(*agent)->info();
        VERIFY_OK(info);
        QCOMPARE(info->activeSlot, QStringLiteral("A"));
        QCOMPARE(info->activeVersion(), QStringLiteral("1.2.0"));
        QVERIFY2(info->lastErrorCode.isEmpty(), qPrintable(info->lastErrorCode));
    }
};

QTEST_GUILESS_MAIN(TestDelta)
#include "tst_delta.moc"
