// Boot control: where the bootloader's view of the A/B slots lives (primary slot, trial flag,
// tries left, stored security version) and the rules that change it. One small interface per
// backend, chosen by config (as RAUC does): `file` keeps the state in an atomically replaced
// file, `uboot` in a redundant U-Boot environment (fw_printenv/fw_setenv), `grub` in two GRUB
// environment blocks (grub-editenv). All three run the same state machine (namespace boot).
#pragma once

#include "agent/AgentConfig.h"
#include "common/Error.h"

#include <QByteArray>
#include <QFileInfo>
#include <QString>
#include <QStringList>

#include <array>
#include <memory>
#include <optional>

namespace otafleet::agent {

enum class SlotId { A = 0, B = 1 };
enum class SlotStatus { Empty, Good, Bad };

[[nodiscard]] QString slotName(SlotId slot);  // "A" / "B"
[[nodiscard]] SlotId otherSlot(SlotId slot);
[[nodiscard]] inline int slotIndex(SlotId slot) {
    return static_cast<int>(slot);
}

struct BootState {
    SlotId primary = SlotId::A;
    bool trial = false;
    int triesLeft = 0;
    quint64 securityVersion = 0;  // highest committed; bundles below it are refused
    quint64 bootCount = 0;
    std::array<SlotStatus, 2> slots{SlotStatus::Empty, SlotStatus::Empty};

    [[nodiscard]] SlotStatus status(SlotId slot) const { return slots[slotIndex(slot)]; }
    void setStatus(SlotId slot, SlotStatus s) { slots[slotIndex(slot)] = s; }

    // Text form "key=value" per line, fixed order, so equal states are equal bytes.
    [[nodiscard]] QByteArray serialize() const;
    // Error agent.state-corrupt.
    [[nodiscard]] static Result<BootState> parse(QByteArrayView text);

    friend bool operator==(const BootState&, const BootState&) = default;
};

// The rules, kept apart from storage so they are tested without any backend.
namespace boot {
struct Decision {
    SlotId slot;           // what this boot runs
    bool exhaustedRevert;  // a trial ran out of tries and was reverted
};
// One boot: counts it; a trial with tries left uses one try, a trial with none left reverts.
[[nodiscard]] Decision begin(BootState& state);
// An installed slot becomes primary for a trial of `tries` boots.
void startTrial(BootState& state, SlotId slot, int tries);
// A failed trial (health or tries): the slot is marked bad and the other slot is primary again.
void revertTrial(BootState& state);
// Errors agent.not-in-trial.
[[nodiscard]] Status commit(BootState& state, SlotId booted, quint64 slotSecurityVersion);
// Errors agent.rollback-unavailable.
[[nodiscard]] Status rollback(BootState& state, SlotId booted);
}  // namespace boot

class BootControl {
public:
    virtual ~BootControl() = default;
    [[nodiscard]] virtual QString backendName() const = 0;
    // Error agent.state-missing when the device was never set up, agent.state-corrupt.
    [[nodiscard]] virtual Result<BootState> load() = 0;
    // Durable when it returns: a crash right after leaves the new state, before it the old one.
    [[nodiscard]] virtual Status store(const BootState& state) = 0;
    // Setup: creates the backing storage (env files) and stores the factory state.
    [[nodiscard]] virtual Status initialize(const BootState& state) { return store(state); }
};

class FileBootControl final : public BootControl {
public:
    explicit FileBootControl(QString statePath) : m_path(std::move(statePath)) {}
    [[nodiscard]] QString backendName() const override { return QStringLiteral("file"); }
    [[nodiscard]] Result<BootState> load() override;
    [[nodiscard]] Status store(const BootState& state) override;
    [[nodiscard]] QString path() const { return m_path; }

private:
    QString m_path;
};

// U-Boot environment through the real fw_printenv/fw_setenv (Debian libubootenv-tool) and a
// fw_env.config naming two copies ("FILE OFFSET SIZE" per line): libubootenv writes the copy that
// is not current and only then flips the flag byte, so a crash mid-write leaves the previous
// copy valid. Variables are named otafleet_<key> (otafleet_primary, otafleet_trial,
// otafleet_tries_left, ...), which a boot script reads. Errors agent.boot-tool-missing,
// agent.boot-tool-failed.
class UBootBootControl final : public BootControl {
public:
    static constexpr qint64 kEnvSize = 0x2000;
    // `scratchDir` (the agent's state dir) takes the fw_setenv script, as the config itself may
    // sit in a read-only /etc; empty: beside the config.
    explicit UBootBootControl(QString fwEnvConfig, QString scratchDir = {})
        : m_config(std::move(fwEnvConfig)), m_scratch(std::move(scratchDir)) {}
    [[nodiscard]] QString backendName() const override { return QStringLiteral("uboot"); }
    [[nodiscard]] Result<BootState> load() override;
    [[nodiscard]] Status store(const BootState& state) override;
    // Writes two zeroed env copies beside the config (FILE-a.env, FILE-b.env), the config naming
    // them, and the state; fw_setenv formats both copies.
    [[nodiscard]] Status initialize(const BootState& state) override;

private:
    [[nodiscard]] QString dir() const { return QFileInfo(m_config).absolutePath(); }
    [[nodiscard]] QString scriptPath() const {
        return m_scratch.isEmpty() ? m_config + QStringLiteral(".script")
                                   : m_scratch + QStringLiteral("/fw_setenv.script");
    }
    QString m_config;
    QString m_scratch;
};

// GRUB environment blocks through the real grub-editenv (Debian grub-common). grub-editenv
// rewrites its 1 KiB block by truncating and writing the file, so one block alone is not
// crash-safe. Two blocks are kept (FILE and FILE.b), each with the whole state and a sequence
// number otafleet_seq; a store rewrites only the block that does NOT hold the newest valid state
// and gives it the next sequence number. A crash during that write leaves the newest block
// untouched, and a torn block fails to parse or lacks otafleet_seq, so it is ignored; the
// loader (and grub.cfg, with load_env on both and a numeric compare) takes the valid block with
// the highest sequence. Errors agent.boot-tool-missing, agent.boot-tool-failed.
class GrubBootControl final : public BootControl {
public:
    explicit GrubBootControl(QString envBlock) : m_block(std::move(envBlock)) {}
    [[nodiscard]] QString backendName() const override { return QStringLiteral("grub"); }
    [[nodiscard]] Result<BootState> load() override;
    [[nodiscard]] Status store(const BootState& state) override;
    [[nodiscard]] Status initialize(const BootState& state) override;

private:
    struct Block {
        quint64 seq = 0;
        std::optional<BootState> state;
    };
    [[nodiscard]] QString blockPath(int index) const;
    [[nodiscard]] Block read(int index) const;
    [[nodiscard]] Status write(int index, quint64 seq, const BootState& state) const;
    QString m_block;
    int m_newest = -1;  // block holding the newest state, -1 until loaded
    quint64 m_seq = 0;
};

// The backend the config names.
[[nodiscard]] Result<std::unique_ptr<BootControl>> createBootControl(const AgentConfig& config);

// DIR/state/boot.state for the file backend.
[[nodiscard]] QString bootStatePath(const QString& dataDir);

}  // namespace otafleet::agent
