#include "link/DeviceSnapshot.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>

namespace otafleet::link {

const SlotSnapshot* DeviceSnapshot::slot(const QString& slotName) const {
    for (const SlotSnapshot& s : slots) {
        if (s.name == slotName)
            return &s;
    }
    return nullptr;
}

QString DeviceSnapshot::activeVersion() const {
    const SlotSnapshot* active = slot(activeSlot);
    return active ? active->version : QString();
}

QJsonObject DeviceSnapshot::toJson() const {
    QJsonArray slotArray;
    for (const SlotSnapshot& s : slots) {
        QJsonObject slot{
            {QStringLiteral("name"), s.name},
            {QStringLiteral("state"), s.state},
            {QStringLiteral("version"), s.version},
            // JSON numbers are doubles; counters and sizes stay exact as strings.
            {QStringLiteral("security_version"), QString::number(s.securityVersion)},
            {QStringLiteral("sha256"), s.sha256},
            {QStringLiteral("size"), QString::number(s.size)},
        };
        if (s.image) {
            slot.insert(QStringLiteral("image_state"),
                        QJsonObject{{QStringLiteral("image"), s.image->image},
                                    {QStringLiteral("slot"), s.image->slot},
                                    {QStringLiteral("bootable"), s.image->bootable},
                                    {QStringLiteral("active"), s.image->active},
                                    {QStringLiteral("confirmed"), s.image->confirmed},
                                    {QStringLiteral("pending"), s.image->pending},
                                    {QStringLiteral("permanent"), s.image->permanent}});
        }
        slotArray.append(slot);
    }
    return QJsonObject{
        {QStringLiteral("device_id"), deviceId},
        {QStringLiteral("name"), name},
        {QStringLiteral("model"), model},
        {QStringLiteral("hardware"), hardware},
        {QStringLiteral("agent_version"), agentVersion},
        {QStringLiteral("active_slot"), activeSlot},
        {QStringLiteral("trial"), trial},
        {QStringLiteral("tries_left"), static_cast<qint64>(triesLeft)},
        {QStringLiteral("stored_security_version"), QString::number(storedSecurityVersion)},
        {QStringLiteral("slots"), slotArray},
        {QStringLiteral("state"), state},
        {QStringLiteral("health_ok"), healthOk},
        {QStringLiteral("last_error_code"), lastErrorCode},
        {QStringLiteral("last_error_message"), lastErrorMessage},
        {QStringLiteral("boot_count"), QString::number(bootCount)},
    };
}

namespace {
quint64 unsignedValue(const QJsonValue& value) {
    if (value.isString())
        return value.toString().toULongLong();
    // Converting a double outside quint64's range is undefined behaviour: refuse it.
    constexpr double kLimit = 18446744073709549568.0;  // largest double below 2^64
    const double d = value.toDouble(-1);
    return d >= 0 && d <= kLimit ? static_cast<quint64>(d) : 0;
}
}  // namespace

DeviceSnapshot DeviceSnapshot::fromJson(const QJsonObject& json) {
    DeviceSnapshot s;
    s.deviceId = json.value(QStringLiteral("device_id")).toString();
    s.name = json.value(QStringLiteral("name")).toString();
    s.model = json.value(QStringLiteral("model")).toString();
    s.hardware = json.value(QStringLiteral("hardware")).toString();
    s.agentVersion = json.value(QStringLiteral("agent_version")).toString();
    s.activeSlot = json.value(QStringLiteral("active_slot")).toString();
    s.trial = json.value(QStringLiteral("trial")).toBool();
    s.triesLeft = static_cast<quint32>(unsignedValue(json.value(QStringLiteral("tries_left"))));
    s.storedSecurityVersion = unsignedValue(json.value(QStringLiteral("stored_security_version")));
    const QJsonArray slotArray = json.value(QStringLiteral("slots")).toArray();
    for (const QJsonValue& v : slotArray) {
        if (s.slots.size() >= kMaxSlots)
            break;
        const QJsonObject o = v.toObject();
        SlotSnapshot slot;
        slot.name = o.value(QStringLiteral("name")).toString();
        slot.state = o.value(QStringLiteral("state")).toString();
        slot.version = o.value(QStringLiteral("version")).toString();
        slot.securityVersion = unsignedValue(o.value(QStringLiteral("security_version")));
        slot.sha256 = o.value(QStringLiteral("sha256")).toString();
        slot.size = unsignedValue(o.value(QStringLiteral("size")));
        if (const QJsonValue state = o.value(QStringLiteral("image_state")); state.isObject()) {
            const QJsonObject is = state.toObject();
            constexpr int kMaxIndex = 255;
            ImageSlotState image;
            image.image = std::clamp(is.value(QStringLiteral("image")).toInt(), 0, kMaxIndex);
            image.slot = std::clamp(is.value(QStringLiteral("slot")).toInt(), 0, kMaxIndex);
            image.bootable = is.value(QStringLiteral("bootable")).toBool();
            image.active = is.value(QStringLiteral("active")).toBool();
            image.confirmed = is.value(QStringLiteral("confirmed")).toBool();
            image.pending = is.value(QStringLiteral("pending")).toBool();
            image.permanent = is.value(QStringLiteral("permanent")).toBool();
            slot.image = image;
        }
        s.slots.append(slot);
    }
    s.state = json.value(QStringLiteral("state")).toString();
    s.healthOk = json.value(QStringLiteral("health_ok")).toBool();
    s.lastErrorCode = json.value(QStringLiteral("last_error_code")).toString();
    s.lastErrorMessage = json.value(QStringLiteral("last_error_message")).toString();
    s.bootCount = unsignedValue(json.value(QStringLiteral("boot_count")));
    return s;
}

Result<DeviceSnapshot> DeviceSnapshot::parse(QByteArrayView json) {
    if (json.size() > kMaxJsonBytes) {
        return fail(QStringLiteral("link.snapshot-invalid"),
                    QStringLiteral("A stored device report of %1 bytes is larger than the %2 "
                                   "allowed; refresh the device to replace it.")
                        .arg(json.size())
                        .arg(kMaxJsonBytes));
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        return fail(QStringLiteral("link.snapshot-invalid"),
                    QStringLiteral("A stored device report is damaged (%1); refresh the device "
                                   "to replace it.")
                        .arg(error.error != QJsonParseError::NoError
                                 ? error.errorString()
                                 : QStringLiteral("not a JSON object")));
    }
    return fromJson(doc.object());
}

}  // namespace otafleet::link
