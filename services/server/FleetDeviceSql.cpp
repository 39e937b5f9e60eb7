#include "server/FleetDeviceSql.h"

namespace otafleet::server {
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

}  // namespace otafleet::server
