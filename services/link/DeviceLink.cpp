#include "link/DeviceLink.h"

#include "link/LinkLogging.h"

namespace otafleet::link {

QString operationName(LinkOperation operation) {
    switch (operation) {
        case LinkOperation::Refresh:
            return QStringLiteral("refresh");
        case LinkOperation::Update:
            return QStringLiteral("update");
        case LinkOperation::Commit:
            return QStringLiteral("commit");
        case LinkOperation::Rollback:
            return QStringLiteral("rollback");
        case LinkOperation::Reboot:
            return QStringLiteral("reboot");
    }
    return QStringLiteral("operation");
}

QString phaseText(UpdatePhase phase) {
    switch (phase) {
        case UpdatePhase::Transferring:
            return QStringLiteral("Transferring");
        case UpdatePhase::Verifying:
            return QStringLiteral("Verifying");
        case UpdatePhase::Writing:
            return QStringLiteral("Installing");
        case UpdatePhase::Rebooting:
            return QStringLiteral("Rebooting");
        case UpdatePhase::HealthCheck:
            return QStringLiteral("Checking health");
        case UpdatePhase::Committing:
            return QStringLiteral("Committing");
        case UpdatePhase::Done:
            return QStringLiteral("Done");
    }
    return QString();
}

DeviceLink::DeviceLink(QString uri, QStringList capabilities, QObject* parent)
    : QObject(parent), m_uri(std::move(uri)), m_capabilities(std::move(capabilities)) {}

DeviceLink::~DeviceLink() = default;

Status DeviceLink::begin(LinkOperation operation, QLatin1StringView capabilityName) {
    if (m_running) {
        return fail(QStringLiteral("link.busy"),
                    QStringLiteral("The device %1 is busy with a %2; wait until it finishes.")
                        .arg(m_uri, operationName(*m_running)));
    }
    if (!m_capabilities.contains(QString(capabilityName))) {
        return fail(QStringLiteral("link.unsupported"),
                    QStringLiteral("The %1 transport cannot %2 a device.")
                        .arg(m_uri.section(QLatin1Char(':'), 0, 0), operationName(operation)));
    }
    m_running = operation;
    qCDebug(lcLink) << "start" << operationName(operation) << m_uri;
    return {};
}

Status DeviceLink::refresh() {
    if (auto ok = begin(LinkOperation::Refresh, capability::kInfo); !ok)
        return ok;
    startRefresh();
    return {};
}

Status DeviceLink::pushUpdate(const QString& bundlePath, const UpdateOptions& options) {
    if (auto ok = begin(LinkOperation::Update, capability::kUpdate); !ok)
        return ok;
    startUpdate(bundlePath, options);
    return {};
}

Status DeviceLink::commit() {
    if (auto ok = begin(LinkOperation::Commit, capability::kCommit); !ok)
        return ok;
    startCommit();
    return {};
}

Status DeviceLink::rollback() {
    if (auto ok = begin(LinkOperation::Rollback, capability::kRollback); !ok)
        return ok;
    startRollback();
    return {};
}

Status DeviceLink::reboot() {
    if (auto ok = begin(LinkOperation::Reboot, capability::kReboot); !ok)
        return ok;
    startReboot();
    return {};
}

void DeviceLink::cancel() {
    if (m_running)
        requestCancel();
}

void DeviceLink::complete(const Result<DeviceSnapshot>& result) {
    if (!m_running) {
        qCWarning(lcLink) << "operation completed twice on" << m_uri;
        return;
    }
    const LinkOperation operation = *m_running;
    m_running.reset();
    if (result) {
        Q_EMIT infoReceived(*result);
        Q_EMIT finished(operation, std::nullopt);
    } else {
        qCDebug(lcLink) << operationName(operation) << m_uri << "failed:" << result.error().code;
        Q_EMIT finished(operation, result.error());
    }
}

void DeviceLink::reportProgress(UpdatePhase phase, qint64 done, qint64 total) {
    Q_EMIT progress(phase, done, total);
}

}  // namespace otafleet::link
