// The devices otafleetd knows because they dialled in: the inventory each last reported, the tags
// and group operators gave it, when it was seen and whether its session is open now. Keyed by the
// device id its certificate names. (The console's directly linked devices are DeviceRepository.)
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantList>

#include <functional>
#include <optional>

namespace otafleet::store {

struct FleetDeviceRecord {
    QString deviceId;
    QString name;
    QString model;
    QString hardware;
    QString serial;
    QString version;  // running firmware
    QString agentVersion;
    bool healthOk = false;
    QByteArray slotsJson = QByteArrayLiteral("[]");  // [{name, state, version, security_version}]
    QStringList tags;
    QString group;
    bool online = false;
    QDateTime firstSeen;
    QDateTime lastSeen;
    bool decommissioned = false;
};

// A condition on fleet_devices written by whoever translates a filter (server/FleetDeviceSql.h):
// SQL over the table's columns with `?` placeholders, and their values in order. It must only
// read columns and use operators both SQLite and PostgreSQL accept.
struct DeviceWhere {
    QString sql = QStringLiteral("1=1");
    QVariantList binds;
};

// The order of a device list: a column, then the device id, so equal values keep one order and
// a page boundary never shows a device twice or skips one. Text order throughout: versions sort
// as text, not by SemVer precedence. Each order but Online has an index (migration 10).
enum class DeviceOrder { DeviceId, Name, Model, Hardware, Version, Group, Online, LastSeen };

struct DeviceSort {
    DeviceOrder by = DeviceOrder::DeviceId;
    bool descending = false;
};

struct FleetDevicePage {
    QList<FleetDeviceRecord> devices;
    qint64 total = 0;
};

struct VersionCount {
    QString model;
    QString hardware;
    QString version;
    qint64 devices = 0;
    qint64 online = 0;
};

struct FleetSummary {
    qint64 devices = 0;  // not decommissioned
    qint64 online = 0;
    qint64 decommissioned = 0;
    QList<VersionCount> versions;
};

class FleetDeviceRepository {
public:
    static constexpr int kMaxTags = 32;
    static constexpr int kMaxPageSize = 1000;

    explicit FleetDeviceRepository(QString connectionName);

    // Inserts or refreshes the reported fields (tags, group, decommissioned are kept) and sets
    // last_seen. Errors store.invalid-input (no device id).
    [[nodiscard]] Status recordInventory(const FleetDeviceRecord& inventory, const QDateTime& seen);
    [[nodiscard]] Status setOnline(const QString& deviceId, bool online, const QDateTime& seen);
    // Many devices' sessions in one transaction (otafleetd's batched writes); devices not in the
    // table are skipped (they have not reported an inventory yet).
    struct Presence {
        QString deviceId;
        bool online = false;
        QDateTime seen;
    };
    [[nodiscard]] Status setPresence(const QList<Presence>& presence);
    // At start: no session survives a restart.
    [[nodiscard]] Status markAllOffline();
    // Errors store.not-found.
    [[nodiscard]] Result<FleetDeviceRecord> get(const QString& deviceId) const;
    // In `sort` order; page is 0-based, pageSize 1..kMaxPageSize; total counts the devices
    // `where` selects. Only the page's rows are read: the page's first key is found by skipping
    // keys alone (in the order's index), then the page is read from there.
    // `knownTotal`: the count the caller had from an earlier page, not counted again.
    [[nodiscard]] Result<FleetDevicePage> page(int page, int pageSize,
                                               const DeviceWhere& where = {},
                                               const DeviceSort& sort = {},
                                               std::optional<qint64> knownTotal = {}) const;
    // The devices `ids` names that exist, in the order of `ids` (at most kMaxPageSize).
    [[nodiscard]] Result<QList<FleetDeviceRecord>> byIds(const QStringList& ids) const;
    [[nodiscard]] Result<QList<FleetDeviceRecord>> all() const;
    // Every device `where` selects, in device id order, one at a time (nothing is collected);
    // `visit` returns false to stop.
    [[nodiscard]] Status scan(const DeviceWhere& where,
                              const std::function<bool(const FleetDeviceRecord&)>& visit) const;
    // The same in `sort` order.
    [[nodiscard]] Status scan(const DeviceWhere& where, const DeviceSort& sort,
                              const std::function<bool(const FleetDeviceRecord&)>& visit) const;
    // Runs `work` in one transaction: committed when it succeeds, rolled back when it fails (bulk
    // changes of many devices: one commit instead of one per device).
    [[nodiscard]] Status transaction(const std::function<Status()>& work);
    [[nodiscard]] Result<FleetSummary> summary() const;
    // Errors store.not-found, store.too-many-tags.
    [[nodiscard]] Status addTag(const QString& deviceId, const QString& tag);
    [[nodiscard]] Status removeTag(const QString& deviceId, const QString& tag);
    [[nodiscard]] Status setGroup(const QString& deviceId, const QString& group);
    [[nodiscard]] Status decommission(const QString& deviceId);

private:
    [[nodiscard]] Status setTags(const QString& deviceId, const QStringList& tags);
    QString m_connectionName;
};

}  // namespace otafleet::store
