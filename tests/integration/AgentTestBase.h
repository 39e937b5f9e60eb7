// Shared fixture of the otafleet-agent integration tests: a fleet PKI (and a foreign one), real
// agents set up in a temp dir, bundles signed on demand, clients with the operator identity.
#pragma once

#include "AgentProcess.h"
#include "TestPki.h"

#include "agentclient/AgentClient.h"
#include "bundle/BundleBuilder.h"
#include "crypto/Sha256.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <csignal>
#include <thread>

using namespace otafleet;
using agentclient::AgentClient;
using agentclient::AgentInfo;
using agentclient::PushOptions;
using test::AgentProcess;
using test::TestPki;

#define VERIFY_OK(expr)                                                        \
    do {                                                                       \
        const auto& r_ = (expr);                                               \
        QVERIFY2(r_.has_value(), r_ ? "" : qPrintable(r_.error().toString())); \
    } while (false)

namespace agenttest {

struct BundleSpec {
    QString version = QStringLiteral("1.1.0");
    quint64 securityVersion = 1;
    QString hardware = QStringLiteral("rev-a");
    bool expired = false;
    qint64 payloadSize = 512 * 1024;
};

// Everything a refusal must leave byte-identical: slot files and the boot state directory.
inline QMap<QString, QByteArray> deviceFiles(const QString& dir) {
    QMap<QString, QByteArray> files;
    for (const char* sub : {"slots", "state"}) {
        QDirIterator it(QDir(dir).filePath(QLatin1String(sub)), QDir::Files);
        while (it.hasNext()) {
            const QString path = it.next();
            QFile f(path);
            if (f.open(QIODevice::ReadOnly))
                files.insert(path, crypto::Sha256::hash(f.readAll()));
        }
    }
    return files;
}

// What the process's descriptors point at ("socket:[123]", "/path/file", "anon_inode:[eventfd]").
inline QStringList openDescriptors(qint64 pid) {
    QStringList targets;
    QDirIterator it(QStringLiteral("/proc/%1/fd").arg(pid), QDir::System | QDir::NoDotAndDotDot);
    while (it.hasNext()) {
        const QFileInfo fd(it.next());
        const QString target = fd.symLinkTarget();
        targets << (target.isEmpty() ? QFile::symLinkTarget(fd.filePath()) : target);
    }
    return targets;
}

class AgentTestBase : public QObject {
protected:
    QTemporaryDir m_tmp;
    std::optional<TestPki> m_pki;
    std::optional<TestPki> m_otherPki;  // a fleet the agents do not trust
    int m_agents = 0;

    Result<QString> makeBundle(const BundleSpec& spec, const TestPki& signer) {
        static int counter = 0;
        const QString base = m_tmp.filePath(QStringLiteral("bundle-%1").arg(++counter));
        QFile payload(base + QStringLiteral(".bin"));
        if (!payload.open(QIODevice::WriteOnly))
            return fail(QStringLiteral("test.io"), base);
        QByteArray data(spec.payloadSize, Qt::Uninitialized);
        for (qsizetype i = 0; i < data.size(); ++i)
            data[i] = char((i * 131 + counter) & 0xff);
        payload.write(data);
        payload.close();
        bundle::CreateOptions o;
        o.version = *SemVer::parse(spec.version);
        o.securityVersion = spec.securityVersion;
        o.hardware = {spec.hardware};
        if (spec.expired) {
            o.created = QDateTime::currentDateTimeUtc().addSecs(-120);
            o.expires = QDateTime::currentDateTimeUtc().addSecs(-60);
        }
        o.payloads = {bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"),
                                           payload.fileName()}};
        const QString path = base + QStringLiteral(".otab");
        if (auto ok = bundle::createBundle(o, path); !ok)
            return fail(ok.error());
        auto key = signer.pki.openReleaseKey(signer.pinProvider());
        if (!key)
            return fail(key.error());
        auto cert = signer.pki.releaseSignerCertificate();
        if (!cert)
            return fail(cert.error());
        auto chain = signer.pki.releaseSignerChain();
        if (!chain)
            return fail(chain.error());
        if (auto ok = bundle::signBundle(path, **key, *cert, *chain); !ok)
            return fail(ok.error());
        return path;
    }

    std::unique_ptr<AgentProcess> newAgent(const QString& configExtra = {},
                                           const QList<std::pair<QString, QString>>& edits = {}) {
        const QString dir = m_tmp.filePath(QStringLiteral("agent-%1").arg(++m_agents));
        auto agent = AgentProcess::setUp(QStringLiteral(OTAFLEET_BIN_DIR), dir, m_pki->pkiDir,
                                         QStringLiteral("dev-%1").arg(m_agents));
        if (!agent) {
            qWarning().noquote() << agent.error().toString();
            return nullptr;
        }
        if (!configExtra.isEmpty() || !edits.isEmpty()) {
            QFile conf((*agent)->configPath());
            if (!conf.open(QIODevice::ReadWrite))
                return nullptr;
            QString text = QString::fromUtf8(conf.readAll());
            for (const auto& [from, to] : edits)
                text.replace(from, to);
            conf.resize(0);
            conf.seek(0);
            conf.write((text + configExtra).toUtf8());
        }
        if (auto ok = (*agent)->start(); !ok) {
            qWarning().noquote() << ok.error().toString();
            return nullptr;
        }
        return std::move(*agent);
    }

    std::unique_ptr<AgentClient> clientFor(const AgentProcess& agent) {
        auto identity = agentclient::TlsIdentity::fromPkiDirectory(m_pki->pkiDir);
        if (!identity)
            return nullptr;
        auto client = AgentClient::create(agent.target(), *identity);
        return client ? std::move(*client) : nullptr;
    }

    void setUpFleets() {
        QVERIFY(m_tmp.isValid());
        auto pki = TestPki::create(m_tmp.filePath(QStringLiteral("fleet")), false);
        VERIFY_OK(pki);
        m_pki = std::move(*pki);
        auto other = TestPki::create(m_tmp.filePath(QStringLiteral("other")), false);
        VERIFY_OK(other);
        m_otherPki = std::move(*other);
    }
};

}  // namespace agenttest
