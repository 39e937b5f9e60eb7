#include "store/FleetDeviceRepository.h"

#include "store/SqlError.h"

#include <QHash>
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

namespace {

// The columns a sort orders by, the device id last (it breaks every tie).
QStringList sortKeys(DeviceOrder by) {
    switch (by) {
        case DeviceOrder::DeviceId:
            return {QStringLiteral("device_id")};
        case DeviceOrder::Name:
            return {QStringLiteral("name"), QStringLiteral("device_id")};
        case DeviceOrder::Model:
            return {QStringLiteral("model"), QStringLiteral("hardware"),
                    QStringLiteral("device_id")};
        case DeviceOrder::Hardware:
            return {QStringLiteral("hardware"), QStringLiteral("device_id")};
        case DeviceOrder::Version:
            return {QStringLiteral("version"), QStringLiteral("device_id")};
        case DeviceOrder::Group:
            return {QStringLiteral("group_name"), QStringLiteral("device_id")};
        case DeviceOrder::Online:
            return {QStringLiteral("online"), QStringLiteral("device_id")};
        case DeviceOrder::LastSeen:
            return {QStringLiteral("last_seen_ms"), QStringLiteral("device_id")};
    }
    return {QStringLiteral("device_id")};
}

QString orderBy(const DeviceSort& sort) {
    const QString direction = sort.descending ? QStringLiteral(" DESC") : QStringLiteral(" ASC");
    QStringList parts;
    for (const QString& key : sortKeys(sort.by))
        parts << key + direction;
    return parts.join(u", ");
}

}  // namespace

Result<FleetDevicePage> FleetDeviceRepository::page(int page, int pageSize,
                                                    const DeviceWhere& where,
                                                    const DeviceSort& sort,
                                                    std::optional<qint64> knownTotal) const {
    FleetDevicePage out;
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    if (knownTotal) {
        out.total = *knownTotal;
    } else {
        query.prepare(QStringLiteral("SELECT COUNT(*) FROM fleet_devices WHERE %1").arg(where.sql));
        for (const QVariant& v : where.binds)
            query.addBindValue(v);
        if (auto ok = exec(query, QStringLiteral("count the devices")); !ok)
            return fail(ok.error());
        if (!query.next())
            return fail(sqlError(QStringLiteral("count the devices"), query.lastError()));
        out.total = query.value(0).toLongLong();
        query.finish();
    }
    const int size = std::clamp(pageSize, 1, kMaxPageSize);
    const qint64 offset = static_cast<qint64>(std::max(page, 0)) * size;
    if (offset >= out.total)
        return out;
    // The page's first key, found by skipping keys alone (the order's index covers them), then
    // only the page's rows: OFFSET over whole rows would read every row before the page.
    const QStringList keys = sortKeys(sort.by);
    const QString order = orderBy(sort);
    if (offset == 0) {
        // The first page (every new filter or order asks for it) needs no anchor.
        query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE %2 ORDER BY %3 LIMIT ?")
                          .arg(kColumns, where.sql, order));
        for (const QVariant& v : where.binds)
            query.addBindValue(v);
        query.addBindValue(size);
        if (auto ok = exec(query, QStringLiteral("list the devices")); !ok)
            return fail(ok.error());
        while (query.next())
            out.devices.append(readDevice(query));
        return out;
    }
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE %2 ORDER BY %3 LIMIT 1 "
                                 "OFFSET ?")
                      .arg(keys.join(u", "), where.sql, order));
    for (const QVariant& v : where.binds)
        query.addBindValue(v);
    query.addBindValue(offset);
    if (auto ok = exec(query, QStringLiteral("list the devices")); !ok)
        return fail(ok.error());
    if (!query.next())
        return out;  // the devices changed between the two statements
    QVariantList anchor;
    for (int i = 0; i < keys.size(); ++i)
        anchor << query.value(i);
    query.finish();
    QStringList marks;
    for (qsizetype i = 0; i < keys.size(); ++i)
        marks << QStringLiteral("?");
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE (%2) AND (%3) %4 (%5) "
                                 "ORDER BY %6 LIMIT ?")
                      .arg(kColumns, where.sql, keys.join(u", "),
                           sort.descending ? QStringLiteral("<=") : QStringLiteral(">="),
                           marks.join(u", "), order));
    for (const QVariant& v : where.binds)
        query.addBindValue(v);
    for (const QVariant& v : anchor)
        query.addBindValue(v);
    query.addBindValue(size);
    if (auto ok = exec(query, QStringLiteral("list the devices")); !ok)
        return fail(ok.error());
    while (query.next())
        out.devices.append(readDevice(query));
    return out;
}

Result<QList<FleetDeviceRecord>> FleetDeviceRepository::byIds(const QStringList& ids) const {
    QList<FleetDeviceRecord> out;
    if (ids.isEmpty())
        return out;
    const QStringList wanted = ids.mid(0, kMaxPageSize);
    QStringList marks;
    for (qsizetype i = 0; i < wanted.size(); ++i)
        marks << QStringLiteral("?");
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE device_id IN (%2)")
                      .arg(kColumns, marks.join(u", ")));
    for (const QString& id : wanted)
        query.addBindValue(id);
    if (auto ok = exec(query, QStringLiteral("read devices")); !ok)
        return fail(ok.error());
    QHash<QString, FleetDeviceRecord> found;
    while (query.next()) {
        FleetDeviceRecord d = readDevice(query);
        found.insert(d.deviceId, std::move(d));
    }
    for (const QString& id : wanted) {
        if (const auto it = found.constFind(id); it != found.cend())
            out.append(*it);
    }
    return out;
}

Status FleetDeviceRepository::scan(
    const DeviceWhere& where, const std::function<bool(const FleetDeviceRecord&)>& visit) const {
    return scan(where, DeviceSort{}, visit);
}

Status FleetDeviceRepository::scan(
    const DeviceWhere& where, const DeviceSort& sort,
    const std::function<bool(const FleetDeviceRecord&)>& visit) const {
    QSqlQuery query(QSqlDatabase::database(m_connectionName));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral("SELECT %1 FROM fleet_devices WHERE %2 ORDER BY %3")
                      .arg(kColumns, where.sql, orderBy(sort)));
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

Status FleetDeviceRepository::transaction(const std::function<Status()>& work) {
    QSqlDatabase db = QSqlDatabase::database(m_connectionName);
    if (!db.transaction())
        return fail(sqlError(QStringLiteral("start a change of many devices"), db.lastError()));
    if (Status done = work(); !done) {
        db.rollback();
        return done;
    }
    if (!db.commit()) {
        const Error error = sqlError(QStringLiteral("change many devices"), db.lastError());
        db.rollback();
        return fail(error);
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
