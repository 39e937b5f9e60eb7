// AgentInfo and TlsIdentity helpers: plain data, no gRPC.
#include "agentclient/AgentClient.h"

#include "common/AtomicFile.h"

#include <QDir>
#include <QJsonArray>

namespace otafleet::agentclient {

QString phaseName(PushPhase phase) {
    switch (phase) {
        case PushPhase::Uploading:
            return QStringLiteral("uploading");
        case PushPhase::Verifying:
            return QStringLiteral("verifying");
        case PushPhase::Writing:
            return QStringLiteral("writing");
        case PushPhase::Rebooting:
            return QStringLiteral("rebooting");
        case PushPhase::HealthCheck:
            return QStringLiteral("health-check");
        case PushPhase::Committing:
            return QStringLiteral("committing");
        case PushPhase::Done:
            return QStringLiteral("done");
    }
    return {};
}

QJsonObject AgentInfo::toJson() const {
    QJsonArray slotArray;
    for (const SlotInfo& s : slots) {
        slotArray.append(
            QJsonObject{{QStringLiteral("name"), s.name},
                        {QStringLiteral("state"), s.state},
                        {QStringLiteral("version"), s.version},
                        {QStringLiteral("security_version"), double(s.securityVersion)},
                        {QStringLiteral("sha256"), s.sha256},
                        {QStringLiteral("size"), double(s.size)}});
    }
    QJsonValue lastError = QJsonValue::Null;
    if (!lastErrorCode.isEmpty()) {
        lastError = QJsonObject{{QStringLiteral("code"), lastErrorCode},
                                {QStringLiteral("message"), lastErrorMessage}};
    }
    return QJsonObject{{QStringLiteral("device_id"), deviceId},
                       {QStringLiteral("name"), name},
                       {QStringLiteral("model"), model},
                       {QStringLiteral("hardware"), hardware},
                       {QStringLiteral("agent_version"), agentVersion},
                       {QStringLiteral("active_slot"), activeSlot},
                       {QStringLiteral("trial"), trial},
                       {QStringLiteral("tries_left"), double(triesLeft)},
                       {QStringLiteral("stored_security_version"), double(storedSecurityVersion)},
                       {QStringLiteral("state"), state},
                       {QStringLiteral("health_ok"), healthOk},
                       {QStringLiteral("boot_count"), double(bootCount)},
                       {QStringLiteral("last_error"), lastError},
                       {QStringLiteral("slots"), slotArray}};
}

const SlotInfo* AgentInfo::slot(const QString& slotName) const {
    for (const SlotInfo& s : slots) {
        if (s.name == slotName)
            return &s;
    }
    return nullptr;
}

QString AgentInfo::activeVersion() const {
    const SlotInfo* s = slot(activeSlot);
    return s ? s->version : QString();
}

Result<TlsIdentity> TlsIdentity::fromFiles(const QString& caPath, const QString& certPath,
                                           const QString& keyPath) {
    constexpr qint64 kMaxPem = 1024 * 1024;
    TlsIdentity id;
    for (auto [path, target] :
         {std::pair{caPath, &id.rootCaPem}, std::pair{certPath, &id.certChainPem},
          std::pair{keyPath, &id.privateKeyPem}}) {
        auto bytes = readFileBounded(path, kMaxPem);
        if (!bytes) {
            return fail(QStringLiteral("link.tls-identity"),
                        QStringLiteral("Could not read %1 (%2); check the --ca/--cert/--key or "
                                       "--pki paths.")
                            .arg(path, bytes.error().message));
        }
        *target = *bytes;
    }
    return id;
}

Result<TlsIdentity> TlsIdentity::fromPkiDirectory(const QString& pkiDir) {
    const QDir dir(pkiDir);
    return fromFiles(dir.filePath(QStringLiteral("root-ca.pem")),
                     dir.filePath(QStringLiteral("operator.pem")),
                     dir.filePath(QStringLiteral("operator.key")));
}

}  // namespace otafleet::agentclient
