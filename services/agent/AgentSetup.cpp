#include "agent/AgentSetup.h"

#include "agent/Agent.h"
#include "agent/AgentConfig.h"
#include "agent/Logging.h"
#include "agent/SlotStore.h"
#include "bundle/BundleBuilder.h"
#include "bundle/BundleVerifier.h"
#include "common/AtomicFile.h"
#include "common/SemVer.h"
#include "crypto/Pki.h"
#include "crypto/Sha256.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QScopeGuard>
#include <QSysInfo>
#include <QUuid>

namespace otafleet::agent {
namespace {

std::unexpected<Error> invalid(const QString& message) {
    return fail(QStringLiteral("agent.setup-invalid"), message);
}

}  // namespace

QByteArray pseudoFirmware(const QString& model, const QString& version, qint64 size) {
    QByteArray out;
    out.reserve(size);
    out +=
        QStringLiteral("OTAFLEET-FIRMWARE\nmodel=%1\nversion=%2\n\n").arg(model, version).toUtf8();
    const QByteArray seed = (model + u'/' + version).toUtf8();
    quint64 counter = 0;
    while (out.size() < size) {
        QByteArray block = seed;
        block += QByteArray::number(counter++);
        out += crypto::Sha256::hash(block);
    }
    out.truncate(size);
    return out;
}

Status setUpAgent(const SetupOptions& o) {
    if (o.directory.isEmpty() || o.pkiDirectory.isEmpty() || o.listen.isEmpty()) {
        return invalid(QStringLiteral("setup needs --dir, --pki and --listen."));
    }
    const qsizetype colon = o.listen.lastIndexOf(u':');
    if (colon <= 0)
        return invalid(QStringLiteral("--listen must be HOST:PORT, e.g. 0.0.0.0:7443."));
    const QString host = o.listen.left(colon);
    auto version = SemVer::parse(o.factoryVersion);
    if (!version)
        return fail(version.error());
    if (o.bootBackend != u"file" && o.bootBackend != u"uboot" && o.bootBackend != u"grub") {
        return invalid(QStringLiteral("--boot-backend must be file, uboot or grub."));
    }
    const QDir dir(o.directory);
    if (QFileInfo::exists(dir.filePath(QStringLiteral("agent.conf")))) {
        return fail(QStringLiteral("agent.setup-exists"),
                    QStringLiteral("%1 already holds an agent; choose an empty directory.")
                        .arg(o.directory));
    }
    for (const char* sub : {"tls", "trust", "slots", "state", "incoming"}) {
        if (!QDir().mkpath(dir.filePath(QLatin1String(sub)))) {
            return fail(
                QStringLiteral("io.write-failed"),
                QStringLiteral("Could not create %1.").arg(dir.filePath(QLatin1String(sub))));
        }
    }
    const QString name = o.name.isEmpty() ? QFileInfo(dir.absolutePath()).fileName() : o.name;

    auto pki = crypto::Pki::open(o.pkiDirectory);
    if (!pki)
        return fail(pki.error());
    // The PIN is read once and handed out as copies, so a provider called twice still works.
    QByteArray pin;
    if (!o.pinEnv.isEmpty()) {
        auto secret = crypto::SecretString::fromEnvironment(o.pinEnv);
        if (!secret)
            return fail(secret.error());
        pin = QByteArray(secret->c_str(), secret->size());
    }
    const auto pinProvider = [&pin]() -> Result<crypto::SecretString> {
        if (pin.isEmpty()) {
            return fail(QStringLiteral("crypto.pin-missing"),
                        QStringLiteral("The PKI keys are on a token; pass --pin-env VAR with the "
                                       "PIN in that environment variable."));
        }
        return crypto::SecretString(pin);
    };
    const auto wipePin = qScopeGuard([&pin] { pin.fill('\0'); });

    // The certificate names the address operators dial; a wildcard listen address is not one,
    // so then the machine's host name and loopback are named instead.
    QString sanHost = host;
    if (sanHost.startsWith(u'[') && sanHost.endsWith(u']'))
        sanHost = sanHost.mid(1, sanHost.size() - 2);  // [::1] -> ::1
    QStringList names{sanHost};
    if (sanHost == u"0.0.0.0" || sanHost == u"::") {
        names = QStringList{QSysInfo::machineHostName(), QStringLiteral("localhost"),
                            QStringLiteral("127.0.0.1")};
    }
    auto identity =
        pki->issueServerIdentity(QStringLiteral("otafleet-agent %1").arg(name), names, pinProvider);
    if (!identity)
        return fail(identity.error());
    if (auto ok = writeFileAtomically(dir.filePath(QStringLiteral("tls/agent.pem")),
                                      identity->certificateChainPem);
        !ok)
        return ok;
    if (auto ok = writeFileAtomically(dir.filePath(QStringLiteral("tls/agent.key")),
                                      identity->privateKeyPem, 0600);
        !ok)
        return ok;
    auto root = readFileBounded(pki->rootCaPath(), 1024 * 1024);
    if (!root)
        return fail(root.error());
    if (auto ok = writeFileAtomically(dir.filePath(QStringLiteral("trust/root-ca.pem")), *root);
        !ok) {
        return ok;
    }
    auto operators = pki->operatorTrustPem();
    if (!operators)
        return fail(operators.error());
    if (auto ok =
            writeFileAtomically(dir.filePath(QStringLiteral("trust/operators.pem")), *operators);
        !ok)
        return ok;

    // Revocation lists: whatever the operator names plus the PKI's published one, if any.
    QStringList crlSources = o.crlFiles;
    const QString pkiCrl = QDir(o.pkiDirectory).filePath(QStringLiteral("crl.pem"));
    if (QFileInfo::exists(pkiCrl))
        crlSources << pkiCrl;
    QString crlKeys;
    for (qsizetype i = 0; i < crlSources.size(); ++i) {
        auto crl = readFileBounded(crlSources.at(i), 4 * 1024 * 1024);
        if (!crl)
            return fail(crl.error());
        const QString target = QStringLiteral("trust/crl-%1.pem").arg(i + 1);
        if (auto ok = writeFileAtomically(dir.filePath(target), *crl); !ok)
            return ok;
        crlKeys += QStringLiteral("crl = %1\n").arg(target);
    }

    // The factory image: made, signed and installed exactly like a release.
    const QString payloadPath = dir.filePath(QStringLiteral("factory-payload.bin"));
    if (auto ok = writeFileAtomically(
            payloadPath, pseudoFirmware(o.model, o.factoryVersion, o.factoryPayloadSize));
        !ok)
        return ok;
    bundle::CreateOptions create;
    create.product = o.model;
    create.version = *version;
    create.securityVersion = o.factorySecurityVersion;
    create.hardware = QStringList{o.hardware};
    create.releaseNotes = QStringLiteral("Factory image");
    create.payloads = {
        bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"), payloadPath}};
    const QString factoryBundle = dir.filePath(QStringLiteral("factory.otab"));
    if (auto ok = bundle::createBundle(create, factoryBundle); !ok)
        return ok;
    QFile::remove(payloadPath);
    auto key = pki->openReleaseKey(pinProvider);
    if (!key)
        return fail(key.error());
    auto signer = pki->releaseSignerCertificate();
    if (!signer)
        return fail(signer.error());
    auto chain = pki->releaseSignerChain();
    if (!chain)
        return fail(chain.error());
    if (auto ok = bundle::signBundle(factoryBundle, **key, *signer, *chain); !ok)
        return ok;

    // The boot environment lives under state/; the bootloader would read the same files.
    const QString backendKeys =
        o.bootBackend == u"uboot" ? QStringLiteral(
                                        "# fw_env.config naming two redundant environment copies\n"
                                        "uboot_env_config = state/fw_env.config\n")
        : o.bootBackend == u"grub"
            ? QStringLiteral(
                  "# GRUB environment block; a second one is kept at grubenv.b\n"
                  "grub_env = state/grubenv\n")
            : QString();
    const QString conf =
        QStringLiteral(
            "# otafleet-agent configuration, written by 'otafleet-agent setup'.\n"
            "# Relative paths are relative to this file's directory.\n\n"
            "[device]\nid = %1\nname = %2\nmodel = %3\nhardware = %4\n\n"
            "[agent]\nlisten = %5\n# max_bundle_size = 4294967296\n\n"
            "[slots]\nslot_a = slots/slot-a.img\nslot_b = slots/slot-b.img\nslot_size = %6\n\n"
            "[boot]\nbackend = %7\ntrial_tries = 3\n%8\n"
            "[trust]\nbundle_root = trust/root-ca.pem\n%9\n"
            "[tls]\ncertificate = tls/agent.pem\nkey = tls/agent.key\noperator_ca = "
            "trust/operators.pem\n\n"
            "[health]\n# command = /usr/local/bin/check-health\ntimeout = 30\n"
            "# min_free = 16777216\n# check_tcp = updates.example.com:443\n")
            .arg(QUuid::createUuid().toString(QUuid::WithoutBraces), name, o.model, o.hardware,
                 o.listen)
            .arg(o.slotSize)
            .arg(o.bootBackend, backendKeys, crlKeys);
    const QString confPath = dir.filePath(QStringLiteral("agent.conf"));
    auto config =
        AgentConfig::parse(conf.toUtf8(), QStringLiteral("agent.conf"), dir.absolutePath());
    if (!config)
        return fail(config.error());
    if (auto ok = writeFileAtomically(config->slotB, QByteArray()); !ok)
        return ok;
    if (auto ok = Agent::installFactoryImage(*config, factoryBundle); !ok)
        return ok;
    // Written last: an agent.conf exists only for a complete setup.
    return writeFileAtomically(confPath, conf.toUtf8());
}

// The factory image goes into slot A as the committed, verified firmware a new device boots.
Status Agent::installFactoryImage(const AgentConfig& config, const QString& bundlePath) {
    auto trust = bundleTrust(config);
    if (!trust)
        return fail(trust.error());
    auto reader = bundle::BundleReader::open(bundlePath);
    if (!reader)
        return fail(reader.error());
    bundle::VerifyPolicy policy;
    policy.trust = *trust;
    policy.hardware = config.hardware;
    auto verified = bundle::BundleVerifier::verifyMetadata(*reader, policy);
    if (!verified)
        return fail(verified.error());
    const SlotStore slots(config.slotA, config.slotB,
                          QDir(config.dataDir).filePath(QStringLiteral("state")));
    // Hashed as it is written: this bundle was not hash-checked before.
    if (auto ok = slots.writeSlot(SlotId::A,
                                  [&](SlotSink& slot) {
                                      return bundle::BundleVerifier::streamPayload(*reader, 0,
                                                                                   slot);
                                  });
        !ok) {
        return ok;
    }
    if (auto ok = slots.storeManifest(SlotId::A, reader->manifestBytes(), reader->signature());
        !ok) {
        return ok;
    }
    BootState state;
    state.primary = SlotId::A;
    state.securityVersion = verified->manifest.securityVersion;
    state.setStatus(SlotId::A, SlotStatus::Good);
    state.setStatus(SlotId::B, SlotStatus::Empty);
    auto boot = createBootControl(config);
    if (!boot)
        return fail(boot.error());
    return (*boot)->initialize(state);
}

}  // namespace otafleet::agent
