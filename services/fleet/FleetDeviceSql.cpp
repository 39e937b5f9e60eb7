#include "fleet/FleetDeviceSql.h"

#include <algorithm>

namespace otafleet::fleet {
namespace {

using rollout::FilterField;
using rollout::FilterNode;
using rollout::FilterOp;

class Translator {
public:
    store::DeviceWhere where;
    bool exact = true;

    // SQL selecting a superset (wantSuperset) or a subset of what `node` matches; the same set
    // when everything below it translates exactly.
    QString translate(const FilterNode& node, bool wantSuperset) {
        switch (node.kind) {
            case FilterNode::Kind::All:
                return QStringLiteral("1=1");
            case FilterNode::Kind::And:
            case FilterNode::Kind::Or: {
                QStringList parts;
                for (const FilterNode& child : node.children)
                    parts << u'(' + translate(child, wantSuperset) + u')';
                return parts.join(node.kind == FilterNode::Kind::And ? u" AND " : u" OR ");
            }
            case FilterNode::Kind::Not:
                if (node.children.size() != 1)
                    return QStringLiteral("1=0");
                return QStringLiteral("NOT (") + translate(node.children.front(), !wantSuperset) +
                       u')';
            case FilterNode::Kind::Compare:
                return compare(node, wantSuperset);
        }
        return QStringLiteral("1=0");
    }

private:
    QString text(const char* column, const FilterNode& node) {
        where.binds.append(node.value);
        return QLatin1StringView(column) +
               (node.op == FilterOp::NotEqual ? QStringLiteral(" <> ?") : QStringLiteral(" = ?"));
    }

    QString compare(const FilterNode& node, bool wantSuperset) {
        switch (node.field) {
            case FilterField::Model:
                return text("model", node);
            case FilterField::Hardware:
                return text("hardware", node);
            case FilterField::Name:
                return text("name", node);
            case FilterField::Id:
                return text("device_id", node);
            case FilterField::Group:
                // A device without a group is in no group, not in the group "".
                if (node.value.isEmpty())
                    return node.op == FilterOp::NotEqual ? QStringLiteral("1=1")
                                                         : QStringLiteral("1=0");
                return text("group_name", node);
            case FilterField::Online: {
                const bool equal = node.op != FilterOp::NotEqual;
                const bool online = node.value == u"true";
                return QStringLiteral("online = %1").arg(online == equal ? 1 : 0);
            }
            case FilterField::Tag:
            case FilterField::Version:
                break;
        }
        exact = false;
        return wantSuperset ? QStringLiteral("1=1") : QStringLiteral("1=0");
    }
};

}  // namespace

DeviceSql deviceSqlOf(const rollout::DeviceFilter& filter) {
    Translator t;
    const QString sql = t.translate(filter.root(), true);
    t.where.sql = sql;
    return DeviceSql{std::move(t.where), t.exact};
}

namespace {

// `text` anywhere in the columns a technician reads off a label or a screen.
void addTextCondition(store::DeviceWhere& where, const QString& text) {
    if (text.isEmpty())
        return;
    QString pattern = text;
    pattern.replace(u'\\', QStringLiteral("\\\\"));
    pattern.replace(u'%', QStringLiteral("\\%"));
    pattern.replace(u'_', QStringLiteral("\\_"));
    pattern = u'%' + pattern + u'%';
    QStringList parts;
    for (const char* column : {"device_id", "name", "serial", "model", "hardware", "version"}) {
        parts << QLatin1StringView(column) + QStringLiteral(" LIKE ? ESCAPE '\\'");
        where.binds.append(pattern);
    }
    where.sql = QStringLiteral("(%1) AND (%2)").arg(where.sql, parts.join(u" OR "));
}

struct SortName {
    DeviceSortKey key;
    const char* name;
};
constexpr SortName kSortNames[] = {
    {DeviceSortKey::Id, "id"},           {DeviceSortKey::Name, "name"},
    {DeviceSortKey::Model, "model"},     {DeviceSortKey::Hardware, "hardware"},
    {DeviceSortKey::Version, "version"}, {DeviceSortKey::Group, "group"},
    {DeviceSortKey::State, "state"},     {DeviceSortKey::LastSeen, "last_seen"},
};

}  // namespace

store::DeviceOrder orderOf(DeviceSortKey key) {
    switch (key) {
        case DeviceSortKey::Id:
            return store::DeviceOrder::DeviceId;
        case DeviceSortKey::Name:
            return store::DeviceOrder::Name;
        case DeviceSortKey::Model:
            return store::DeviceOrder::Model;
        case DeviceSortKey::Hardware:
            return store::DeviceOrder::Hardware;
        case DeviceSortKey::Version:
            return store::DeviceOrder::Version;
        case DeviceSortKey::Group:
            return store::DeviceOrder::Group;
        case DeviceSortKey::State:
            return store::DeviceOrder::Online;
        case DeviceSortKey::LastSeen:
            return store::DeviceOrder::LastSeen;
    }
    return store::DeviceOrder::DeviceId;
}

Result<DeviceSortKey> sortKeyNamed(const QString& name) {
    if (name.isEmpty())
        return DeviceSortKey::Id;
    for (const SortName& s : kSortNames) {
        if (name == QLatin1StringView(s.name))
            return s.key;
    }
    return fail(QStringLiteral("filter.sort"),
                QStringLiteral("Devices cannot be sorted by '%1'; use id, name, model, hardware, "
                               "version, group, state or last_seen.")
                    .arg(name.left(40)));
}

QString sortKeyName(DeviceSortKey key) {
    for (const SortName& s : kSortNames) {
        if (s.key == key)
            return QLatin1StringView(s.name);
    }
    return QStringLiteral("id");
}

Result<store::FleetDevicePage> DevicePager::page(store::FleetDeviceRepository& devices,
                                                 const DevicePageRequest& request) {
    if (auto ok = checkPageRequest(request); !ok)
        return fail(ok.error());
    auto filter = rollout::DeviceFilter::parse(request.filter);
    if (!filter)
        return fail(filter.error());
    DeviceSql sql = deviceSqlOf(*filter);
    addTextCondition(sql.where, request.text);
    const store::DeviceSort sort{orderOf(request.sort), request.descending};
    const int size = std::clamp(request.pageSize, 1, DevicePageRequest::kMaxPageSize);
    const auto maxAge = std::chrono::duration_cast<std::chrono::milliseconds>(kMatchesMaxAge);
    if (sql.exact) {
        const bool counted = m_count && m_count->filter == request.filter &&
                             m_count->text == request.text && !m_count->fresh.hasExpired();
        auto page = devices.page(request.page, size, sql.where, sort,
                                 counted ? std::optional<qint64>(m_count->total) : std::nullopt);
        if (page && !counted)
            m_count = Count{request.filter, request.text, page->total, QDeadlineTimer(maxAge)};
        return page;
    }
    const bool reuse = m_matches && m_matches->filter == request.filter &&
                       m_matches->text == request.text && m_matches->sort.by == sort.by &&
                       m_matches->sort.descending == sort.descending &&
                       !m_matches->fresh.hasExpired();
    if (!reuse) {
        Matches m{
            request.filter,
            request.text,
            sort,
            {},
            QDeadlineTimer(std::chrono::duration_cast<std::chrono::milliseconds>(kMatchesMaxAge))};
        auto scanned = devices.scan(sql.where, sort, [&](const store::FleetDeviceRecord& d) {
            if (filter->matches(factsOf(d)))
                m.keys.append(d.deviceId);
            return true;
        });
        if (!scanned)
            return fail(scanned.error());
        m_matches = std::move(m);
    }
    store::FleetDevicePage out;
    out.total = m_matches->keys.size();
    const qint64 first = qint64(std::max(request.page, 0)) * size;
    if (first < out.total) {
        auto records = devices.byIds(m_matches->keys.mid(first, size));
        if (!records)
            return fail(records.error());
        out.devices = std::move(*records);
    }
    return out;
}

}  // namespace otafleet::fleet
