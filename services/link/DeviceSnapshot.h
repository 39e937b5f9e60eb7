// What a device reported about itself at one moment: identity, A/B slots and boot state. A plain
// value type shared by every transport, the fleet store and the UI, so that nothing above the
// plugins ever sees a wire type (gRPC, SMP). It round-trips through JSON for the store.
#pragma once

#include "common/Error.h"

#include <QByteArrayView>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

#include <optional>

namespace otafleet::link {

// How SMP's image group reports a slot of an MCU-class device (MCUboot), flag for flag.
struct ImageSlotState {
    int image = 0;  // image number (multi-image devices)
    int slot = 0;   // 0 primary, 1 secondary
    bool bootable = false;
    bool active = false;
    bool confirmed = false;
    bool pending = false;
    bool permanent = false;

    friend bool operator==(const ImageSlotState&, const ImageSlotState&) = default;
};

struct SlotSnapshot {
    QString name;     // "A" / "B"; "primary" / "secondary" on MCU-class devices
    QString state;    // empty|active|inactive|trial|pending|bad
    QString version;  // empty when the slot holds no firmware
    quint64 securityVersion = 0;
    QString sha256;
    quint64 size = 0;
    std::optional<ImageSlotState> image;  // MCU-class devices only

    friend bool operator==(const SlotSnapshot&, const SlotSnapshot&) = default;
};

struct DeviceSnapshot {
    QString deviceId;
    QString name;
    QString model;
    QString hardware;
    QString agentVersion;
    QString activeSlot;
    bool trial = false;
    quint32 triesLeft = 0;
    quint64 storedSecurityVersion = 0;
    QList<SlotSnapshot> slots;
    QString state;  // idle|receiving|installing|pending-reboot|trial|reverted|error
    bool healthOk = false;
    QString lastErrorCode;
    QString lastErrorMessage;
    quint64 bootCount = 0;

    [[nodiscard]] const SlotSnapshot* slot(const QString& slotName) const;
    // Version of the firmware the device runs now; empty if unknown.
    [[nodiscard]] QString activeVersion() const;

    static constexpr qsizetype kMaxJsonBytes = 256 * 1024;
    static constexpr qsizetype kMaxSlots = 16;

    [[nodiscard]] QJsonObject toJson() const;
    // Tolerant: missing or mistyped keys keep their defaults; at most kMaxSlots slots are read.
    [[nodiscard]] static DeviceSnapshot fromJson(const QJsonObject& json);
    // From stored bytes (a database file can be damaged or edited): bounded to kMaxJsonBytes,
    // must be a JSON object. Error: link.snapshot-invalid.
    [[nodiscard]] static Result<DeviceSnapshot> parse(QByteArrayView json);

    friend bool operator==(const DeviceSnapshot&, const DeviceSnapshot&) = default;
};

}  // namespace otafleet::link

Q_DECLARE_METATYPE(otafleet::link::DeviceSnapshot)
