#include "store/FleetDeviceRepository.h"

#include "store/SqlError.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

namespace otafleet::store {
namespace {

const QString kColumns = QStringLiteral(
    "device_id, name, model, hardware, serial, version, agent_version, health_ok, slots, tags,"
    " group_name, online, first_seen_ms, last_seen_ms, decommissioned");

QStringList tagsFromJson(const QString& text) {
    QStringList tags;
    const QJsonArray array = QJsonDocument::fromJson(text.toUtf8()).array();
    for (const auto& v : array)
        tags << v.toString();
    return tags;
}

QString tagsToJson(const QStringList& tags) {
    return QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(tags)).toJson(QJsonDocument::Compact));
}

FleetDeviceRecord readDevice(const QSqlQuery& q) {
    FleetDeviceRecord d;
    d.deviceId = q.value(0).toString();
    d.name = q.value(1).toString();
    d.model = q.value(2).toString();
    d.hardware = q.value(3).toString();
    d.serial = q.value(4).toString();
    d.version = q.value(5).toString();
    d.agentVersion = q.value(6).toString();
    d.healthOk = q.value(7).toInt() != 0;
    d.slotsJson = q.value(8).toString().toUtf8();
    d.tags = tagsFromJson(q.value(9).toString());
    d.group = q.value(10).toString();
    d.online = q.value(11).toInt() != 0;
    d.firstSeen = QDateTime::fromMSecsSinceEpoch(q.value(12).toLongLong(), Qt::UTC);
    d.lastSeen = QDateTime::fromMSecsSinceEpoch(q.value(13).toLongLong(), Qt::UTC);
    d.decommissioned = q.value(14).toInt() != 0;
    return d;
}

std::unexpected<Error> notFound(const QString& id) {
    return fail(QStringLiteral("store.not-found"),
                QStringLiteral("No device %1 has reported to this server; 'otafleetctl fleet "
                               "devices' lists the known ones.")
                    .arg(id));
}

}  // namespace

FleetDeviceRepository::FleetDeviceRepository(QString connectionName)
    : m_connectionName(std::move(connectionName)) {}

Status FleetDeviceRepository::recordInventory(const FleetDeviceRecord& d, const QDateTime& seen) {
    if (d.deviceId.isEmpty()) {
        return fail(QStringLiteral("store.invalid-input"),
                    QStringLiteral("An inventory report must name its device."));
    }
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "INSERT INTO fleet_devices (device_id, name, model, hardware, serial, version,"
        " agent_version, health_ok, slots, first_seen_ms, last_seen_ms)"
        " VALUES (?, COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), "
        "COALESCE(?, ''), COALESCE(?, ''), ?, COALESCE(?, ''), ?, ?)"
        " ON CONFLICT (device_id) DO UPDATE SET name = excluded.name, model = excluded.model,"
        " hardware = excluded.hardware, serial = excluded.serial, version = excluded.version,"
        " agent_version = excluded.agent_version, health_ok = excluded.health_ok,"
        " slots = excluded.slots, last_seen_ms = excluded.last_seen_ms"));
    query.addBindValue(d.deviceId);
    query.addBindValue(d.name);
    query.addBindValue(d.model);
    query.addBindValue(d.hardware);
    query.addBindValue(d.serial);
    query.addBindValue(d.version);
    query.addBindValue(d.agentVersion);
    query.addBindValue(d.healthOk ? 1 : 0);
    query.addBindValue(QString::fromUtf8(d.slotsJson));
    query.addBindValue(seen.toMSecsSinceEpoch());
    query.addBindValue(seen.toMSecsSinceEpoch());
    return exec(query, QStringLiteral("record a device's inventory"));
}

Status FleetDeviceRepository::setOnline(const QString& deviceId, bool online,
                                        const QDateTime& seen) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "UPDATE fleet_devices SET online = ?, last_seen_ms = ? WHERE device_id = ?"));
    query.addBindValue(online ? 1 : 0);
    query.addBindValue(seen.toMSecsSinceEpoch());
    query.addBindValue(deviceId);
    if (auto ok = exec(query, QStringLiteral("record a device's session")); !ok)
        return ok;
    if (query.numRowsAffected() != 1)
        return notFound(deviceId);
    return {};
}

Status FleetDeviceRepository::setPresence(const QList<Presence>& presence) {
    if (presence.isEmpty())
        return {};
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    if (!db.transaction())
        return fail(sqlError(QStringLiteral("start recording sessions"), db.lastError()));
    QSqlQuery query(db);
    query.prepare(QStringLiteral(
        "UPDATE fleet_devices SET online = ?, last_seen_ms = ? WHERE device_id = ?"));
    for (const Presence& p : presence) {
        query.addBindValue(p.online ? 1 : 0);
        query.addBindValue(p.seen.toMSecsSinceEpoch());
        query.addBindValue(p.deviceId);
        if (auto ok = exec(query, QStringLiteral("record a device's session")); !ok) {
            db.rollback();
            return ok;
        }
    }
    if (!db.commit()) {
        const Error error = sqlError(QStringLiteral("record sessions"), db.lastError());
        db.rollback();
        return fail(error);
    }
    return {};
}

Status FleetDeviceRepository::markAllOffline() {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE fleet_devices SET online = 0"));
    return exec(query, QStringLiteral("reset the devices' sessions"));
}

Result<FleetDeviceRecord> FleetDeviceRepository::get(const QString& deviceId) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE device_id = ?").arg(kColumns));
    query.addBindValue(deviceId);
    if (auto ok = exec(query, QStringLiteral("read a device")); !ok)
        return fail(ok.error());
    if (!query.next())
        return notFound(deviceId);
    return readDevice(query);
}

Result<FleetDevicePage> FleetDeviceRepository::page(int page, int pageSize,
                                                    const DeviceWhere& where) const {
    FleetDevicePage out;
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT COUNT(*) FROM fleet_devices WHERE %1").arg(where.sql));
    for (const QVariant& v : where.binds)
        query.addBindValue(v);
    if (auto ok = exec(query, QStringLiteral("count the devices")); !ok)
        return fail(ok.error());
    if (!query.next())
        return fail(sqlError(QStringLiteral("count the devices"), query.lastError()));
    out.total = query.value(0).toLongLong();
    query.finish();
    // The page's first id is found by skipping ids alone (the primary key's index covers the
    // subquery), and only the page's rows are read: OFFSET over whole rows would read every row
    // before the page.
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE (%2) AND device_id >= (SELECT"
                                 " device_id FROM fleet_devices WHERE %2 ORDER BY device_id LIMIT 1"
                                 " OFFSET ?) ORDER BY device_id LIMIT ?")
                      .arg(kColumns, where.sql));
    for (const QVariant& v : where.binds)
        query.addBindValue(v);
    for (const QVariant& v : where.binds)
        query.addBindValue(v);
    const int size = std::clamp(pageSize, 1, kMaxPageSize);
    query.addBindValue(static_cast<qint64>(std::max(page, 0)) * size);
    query.addBindValue(size);
    if (auto ok = exec(query, QStringLiteral("list the devices")); !ok)
        return fail(ok.error());
    while (query.next())
        out.devices.append(readDevice(query));
    return out;
}

Status FleetDeviceRepository::scan(
    const DeviceWhere& where, const std::function<bool(const FleetDeviceRecord&)>& visit) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE %2 ORDER BY device_id")
                      .arg(kColumns, where.sql));
    for (const QVariant& v : where.binds)
        query.addBindValue(v);
    if (auto ok = exec(query, QStringLiteral("list the devices")); !ok)
        return ok;
    while (query.next()) {
        if (!visit(readDevice(query)))
            break;
    }
    return {};
}

Result<QList<FleetDeviceRecord>> FleetDeviceRepository::all() const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices ORDER BY device_id").arg(kColumns));
    if (auto ok = exec(query, QStringLiteral("list the devices")); !ok)
        return fail(ok.error());
    QList<FleetDeviceRecord> devices;
    while (query.next())
        devices.append(readDevice(query));
    return devices;
}

Result<FleetSummary> FleetDeviceRepository::summary() const {
    FleetSummary s;
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral(
            "SELECT model, hardware, version, COUNT(*), SUM(online) FROM fleet_devices"
            " WHERE decommissioned = 0 GROUP BY model, hardware, version"
            " ORDER BY model, hardware, version"))) {
        return fail(sqlError(QStringLiteral("summarise the fleet"), query.lastError()));
    }
    while (query.next()) {
        VersionCount c{query.value(0).toString(), query.value(1).toString(),
                       query.value(2).toString(), query.value(3).toLongLong(),
                       query.value(4).toLongLong()};
        s.devices += c.devices;
        s.online += c.online;
        s.versions.append(c);
    }
    if (!query.exec(
            QStringLiteral("SELECT COUNT(*) FROM fleet_devices WHERE decommissioned = 1")) ||
        !query.next()) {
        return fail(sqlError(QStringLiteral("summarise the fleet"), query.lastError()));
    }
    s.decommissioned = query.value(0).toLongLong();
    return s;
}

Status FleetDeviceRepository::setTags(const QString& deviceId, const QStringList& tags) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral("UPDATE fleet_devices SET tags = ? WHERE device_id = ?"));
    query.addBindValue(tagsToJson(tags));
    query.addBindValue(deviceId);
    if (auto ok = exec(query, QStringLiteral("change a device's tags")); !ok)
        return ok;
    if (query.numRowsAffected() != 1)
        return notFound(deviceId);
    return {};
}

Status FleetDeviceRepository::addTag(const QString& deviceId, const QString& tag) {
    auto device = get(deviceId);
    if (!device)
        return fail(device.error());
    if (device->tags.contains(tag))
        return {};
    if (device->tags.size() >= kMaxTags) {
        return fail(QStringLiteral("store.too-many-tags"),
                    QStringLiteral("Device %1 has %2 tags already, the most it may have; remove "
                                   "one first.")
                        .arg(deviceId)
                        .arg(kMaxTags));
    }
    QStringList tags = device->tags;
    tags << tag;
    tags.sort();
    return setTags(deviceId, tags);
}

Status FleetDeviceRepository::removeTag(const QString& deviceId, const QString& tag) {
    auto device = get(deviceId);
    if (!device)
        return fail(device.error());
    QStringList tags = device->tags;
    tags.removeAll(tag);
    return setTags(deviceId, tags);
}

Status FleetDeviceRepository::setGroup(const QString& deviceId, const QString& group) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "UPDATE fleet_devices SET group_name = COALESCE(?, '') WHERE device_id = ?"));
    query.addBindValue(group);
    query.addBindValue(deviceId);
    if (auto ok = exec(query, QStringLiteral("change a device's group")); !ok)
        return ok;
    if (query.numRowsAffected() != 1)
        return notFound(deviceId);
    return {};
}

Status FleetDeviceRepository::decommission(const QString& deviceId) {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.prepare(QStringLiteral(
        "UPDATE fleet_devices SET decommissioned = 1, online = 0 WHERE device_id = ?"));
    query.addBindValue(deviceId);
    if (auto ok = exec(query, QStringLiteral("decommission a device")); !ok)
        return ok;
    if (query.numRowsAffected() != 1)
        return notFound(deviceId);
    return {};
}

}  // namespace otafleet::store
