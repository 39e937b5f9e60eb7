// Boot control: where the bootloader's view of the A/B slots lives (primary slot, trial flag,
// tries left, stored security version) and the rules that change it. One small interface per
// backend, chosen by config (as RAUC does); `file` keeps the state in an atomically replaced
// file, `uboot` and `grub` are named but not yet available.
#pragma once

#include "agent/AgentConfig.h"
#include "common/Error.h"

#include <QByteArray>
#include <QString>

#include <array>
#include <memory>

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

// The backend the config names; error agent.boot-backend-unavailable for uboot and grub.
[[nodiscard]] Result<std::unique_ptr<BootControl>> createBootControl(const AgentConfig& config);

// DIR/state/boot.state for the file backend.
[[nodiscard]] QString bootStatePath(const QString& dataDir);

}  // namespace otafleet::agent
