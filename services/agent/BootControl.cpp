#include "agent/BootControl.h"

#include "agent/CrashPoint.h"
#include "common/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMap>

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace otafleet::agent {
namespace {

constexpr qint64 kMaxStateSize = 4096;

QByteArray statusName(SlotStatus s) {
    switch (s) {
        case SlotStatus::Empty:
            return "empty";
        case SlotStatus::Good:
            return "good";
        case SlotStatus::Bad:
            return "bad";
    }
    return "empty";
}

std::optional<SlotStatus> statusFromName(QByteArrayView n) {
    if (n == "empty")
        return SlotStatus::Empty;
    if (n == "good")
        return SlotStatus::Good;
    if (n == "bad")
        return SlotStatus::Bad;
    return std::nullopt;
}

std::unexpected<Error> corrupt(const QString& what) {
    return fail(QStringLiteral("agent.state-corrupt"),
                QStringLiteral("The boot state is damaged (%1); run 'otafleet-agent setup' again "
                               "to restore a factory state.")
                    .arg(what));
}

}  // namespace

QString slotName(SlotId slot) {
    return slot == SlotId::A ? QStringLiteral("A") : QStringLiteral("B");
}
SlotId otherSlot(SlotId slot) {
    return slot == SlotId::A ? SlotId::B : SlotId::A;
}

QByteArray BootState::serialize() const {
    QByteArray out;
    out += "format=1\n";
    out += "primary=" + slotName(primary).toLatin1() + '\n';
    out += "trial=" + QByteArray(trial ? "1" : "0") + '\n';
    out += "tries_left=" + QByteArray::number(triesLeft) + '\n';
    out += "security_version=" + QByteArray::number(securityVersion) + '\n';
    out += "boot_count=" + QByteArray::number(bootCount) + '\n';
    out += "slot_a=" + statusName(slots[0]) + '\n';
    out += "slot_b=" + statusName(slots[1]) + '\n';
    return out;
}

Result<BootState> BootState::parse(QByteArrayView text) {
    if (text.size() > kMaxStateSize) {
        return corrupt(QStringLiteral("too large"));
    }
    QMap<QByteArray, QByteArray> values;
    for (const QByteArray& line : text.toByteArray().split('\n')) {
        if (line.isEmpty())
            continue;
        const qsizetype eq = line.indexOf('=');
        if (eq <= 0)
            return corrupt(QStringLiteral("line without '='"));
        values.insert(line.left(eq), line.mid(eq + 1));
    }
    if (values.value("format") != "1")
        return corrupt(QStringLiteral("unknown format"));
    BootState s;
    const QByteArray primary = values.value("primary");
    if (primary != "A" && primary != "B")
        return corrupt(QStringLiteral("primary slot"));
    s.primary = primary == "A" ? SlotId::A : SlotId::B;
    s.trial = values.value("trial") == "1";
    bool ok1 = false, ok2 = false, ok3 = false;
    s.triesLeft = values.value("tries_left").toInt(&ok1);
    s.securityVersion = values.value("security_version").toULongLong(&ok2);
    s.bootCount = values.value("boot_count").toULongLong(&ok3);
    if (!ok1 || !ok2 || !ok3 || s.triesLeft < 0)
        return corrupt(QStringLiteral("numbers"));
    const auto a = statusFromName(values.value("slot_a"));
    const auto b = statusFromName(values.value("slot_b"));
    if (!a || !b)
        return corrupt(QStringLiteral("slot status"));
    s.slots = {*a, *b};
    return s;
}

namespace boot {

Decision begin(BootState& state) {
    ++state.bootCount;
    if (state.trial && state.triesLeft <= 0) {
        revertTrial(state);
        return {state.primary, true};
    }
    if (state.trial) {
        --state.triesLeft;
    }
    return {state.primary, false};
}

void startTrial(BootState& state, SlotId slot, int tries) {
    state.setStatus(slot, SlotStatus::Good);
    state.primary = slot;
    state.trial = true;
    state.triesLeft = tries;
}

void revertTrial(BootState& state) {
    state.setStatus(state.primary, SlotStatus::Bad);
    state.primary = otherSlot(state.primary);
    state.trial = false;
    state.triesLeft = 0;
}

Status commit(BootState& state, SlotId booted, quint64 slotSecurityVersion) {
    if (!state.trial || state.primary != booted) {
        return fail(QStringLiteral("agent.not-in-trial"),
                    QStringLiteral("There is no trial boot to commit; install an update and "
                                   "reboot into it first."));
    }
    state.trial = false;
    state.triesLeft = 0;
    state.securityVersion = std::max(state.securityVersion, slotSecurityVersion);
    return {};
}

Status rollback(BootState& state, SlotId booted) {
    const SlotId other = otherSlot(booted);
    if (state.status(other) != SlotStatus::Good) {
        return fail(QStringLiteral("agent.rollback-unavailable"),
                    QStringLiteral("Slot %1 holds no verified firmware, so there is nothing to "
                                   "roll back to.")
                        .arg(slotName(other)));
    }
    state.primary = other;
    state.trial = false;
    state.triesLeft = 0;
    return {};
}

}  // namespace boot

Result<BootState> FileBootControl::load() {
    if (!QFileInfo::exists(m_path)) {
        return fail(
            QStringLiteral("agent.state-missing"),
            QStringLiteral("No boot state at %1; run 'otafleet-agent setup' first.").arg(m_path));
    }
    auto bytes = readFileBounded(m_path, kMaxStateSize);
    if (!bytes)
        return fail(bytes.error());
    return BootState::parse(*bytes);
}

// The same steps as writeFileAtomically, spelled out so that each fsync and rename boundary is a
// named crash point of the fault-injection sweep.
Status FileBootControl::store(const BootState& state) {
    const QString dir = QFileInfo(m_path).absolutePath();
    if (!QDir().mkpath(dir)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("Could not create the state directory for %1.").arg(m_path));
    }
    const auto failed = [this](const char* step) {
        return fail(
            QStringLiteral("io.write-failed"),
            QStringLiteral("Could not %1 the boot state %2 (%3); check the disk.")
                .arg(QLatin1String(step), m_path, QString::fromLocal8Bit(std::strerror(errno))));
    };
    const QByteArray temp = QFile::encodeName(m_path + QStringLiteral(".tmp"));
    const QByteArray bytes = state.serialize();
    crash::at("state-file-begin");
    const int fd = ::open(temp.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return failed("create");
    const ssize_t n = ::write(fd, bytes.constData(), static_cast<size_t>(bytes.size()));
    crash::at("state-file-written");
    if (n != bytes.size() || ::fsync(fd) != 0) {
        ::close(fd);
        return failed("write");
    }
    ::close(fd);
    crash::at("state-file-synced");
    if (::rename(temp.constData(), QFile::encodeName(m_path).constData()) != 0)
        return failed("rename");
    crash::at("state-file-renamed");
    auto synced = syncDirectory(dir);
    crash::at("state-file-dir-synced");
    return synced;
}

QString bootStatePath(const QString& dataDir) {
    return QDir(dataDir).filePath(QStringLiteral("state/boot.state"));
}

Result<std::unique_ptr<BootControl>> createBootControl(const AgentConfig& config) {
    switch (config.bootBackend) {
        case BootBackend::File:
            return std::make_unique<FileBootControl>(bootStatePath(config.dataDir));
        case BootBackend::UBoot:
            if (config.ubootEnvConfig.isEmpty())
                break;
            return std::make_unique<UBootBootControl>(
                config.ubootEnvConfig, QDir(config.dataDir).filePath(QStringLiteral("state")));
        case BootBackend::Grub:
            if (config.grubEnv.isEmpty())
                break;
            return std::make_unique<GrubBootControl>(config.grubEnv);
    }
    return fail(
        QStringLiteral("agent.boot-backend-unavailable"),
        QStringLiteral("The boot backend '%1' needs its environment: set 'uboot_env_config' "
                       "(uboot) or 'grub_env' (grub) in [boot].")
            .arg(bootBackendName(config.bootBackend)));
}

}  // namespace otafleet::agent
