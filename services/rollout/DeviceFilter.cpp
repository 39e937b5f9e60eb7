#include "rollout/DeviceFilter.h"

#include "rollout/FilterParser.h"

namespace otafleet::rollout {
namespace {

bool compareOrdering(std::strong_ordering order, FilterOp op) {
    switch (op) {
        case FilterOp::Equal:
            return order == 0;
        case FilterOp::NotEqual:
            return order != 0;
        case FilterOp::Less:
            return order < 0;
        case FilterOp::LessOrEqual:
            return order <= 0;
        case FilterOp::Greater:
            return order > 0;
        case FilterOp::GreaterOrEqual:
            return order >= 0;
    }
    return false;
}

bool equality(bool equal, FilterOp op) {
    return op == FilterOp::NotEqual ? !equal : equal;
}

bool compare(const FilterNode& node, const DeviceFacts& device) {
    switch (node.field) {
        case FilterField::Model:
            return equality(device.model == node.value, node.op);
        case FilterField::Hardware:
            return equality(device.hardware == node.value, node.op);
        case FilterField::Name:
            return equality(device.name == node.value, node.op);
        case FilterField::Id:
            return equality(device.id == node.value, node.op);
        case FilterField::Tag:
            return equality(device.tags.contains(node.value), node.op);
        case FilterField::Group:
            return equality(device.groups.contains(node.value), node.op);
        case FilterField::Online:
            return equality(device.online == (node.value == u"true"), node.op);
        case FilterField::Version: {
            auto version = SemVer::parse(device.version);
            if (!version || !node.version) {
                return node.op == FilterOp::NotEqual;
            }
            return compareOrdering(*version <=> *node.version, node.op);
        }
    }
    return false;
}

bool evaluate(const FilterNode& node, const DeviceFacts& device) {
    switch (node.kind) {
        case FilterNode::Kind::All:
            return true;
        case FilterNode::Kind::And:
            for (const auto& child : node.children) {
                if (!evaluate(child, device)) {
                    return false;
                }
            }
            return true;
        case FilterNode::Kind::Or:
            for (const auto& child : node.children) {
                if (evaluate(child, device)) {
                    return true;
                }
            }
            return false;
        case FilterNode::Kind::Not:
            return node.children.size() == 1 && !evaluate(node.children.front(), device);
        case FilterNode::Kind::Compare:
            return compare(node, device);
    }
    return false;
}

QString quoted(const QString& value) {
    bool plain = !value.isEmpty();
    for (const QChar c : value) {
        if (c.isSpace() || c == u'(' || c == u')' || c == u'=' || c == u'!' || c == u'<' ||
            c == u'>' || c == u'"' || c == u'\'' || c == u'\\') {
            plain = false;
        }
    }
    const QString lower = value.toLower();
    if (lower == u"and" || lower == u"or" || lower == u"not") {
        plain = false;
    }
    if (plain) {
        return value;
    }
    QString escaped = value;
    escaped.replace(QStringLiteral("\\"), QStringLiteral("\\\\"));
    escaped.replace(QStringLiteral("\""), QStringLiteral("\\\""));
    return QLatin1Char('"') + escaped + QLatin1Char('"');
}

QString print(const FilterNode& node, bool nested) {
    switch (node.kind) {
        case FilterNode::Kind::All:
            return {};
        case FilterNode::Kind::And:
        case FilterNode::Kind::Or: {
            QStringList parts;
            for (const auto& child : node.children) {
                parts << print(child, true);
            }
            const QString joined =
                parts.join(node.kind == FilterNode::Kind::And ? u" and " : u" or ");
            return nested ? QLatin1Char('(') + joined + QLatin1Char(')') : joined;
        }
        case FilterNode::Kind::Not:
            return QStringLiteral("not ") +
                   (node.children.empty() ? QString() : print(node.children.front(), true));
        case FilterNode::Kind::Compare:
            return DeviceFilter::fieldName(node.field) + DeviceFilter::opText(node.op) +
                   quoted(node.value);
    }
    return {};
}

}  // namespace

Result<DeviceFilter> DeviceFilter::parse(QStringView expression) {
    return FilterParser::parse(expression);
}

bool DeviceFilter::matches(const DeviceFacts& device) const {
    return evaluate(m_root, device);
}

QString DeviceFilter::toString() const {
    return print(m_root, false);
}

QString DeviceFilter::fieldName(FilterField field) {
    switch (field) {
        case FilterField::Model:
            return QStringLiteral("model");
        case FilterField::Hardware:
            return QStringLiteral("hardware");
        case FilterField::Version:
            return QStringLiteral("version");
        case FilterField::Tag:
            return QStringLiteral("tag");
        case FilterField::Group:
            return QStringLiteral("group");
        case FilterField::Name:
            return QStringLiteral("name");
        case FilterField::Id:
            return QStringLiteral("id");
        case FilterField::Online:
            return QStringLiteral("online");
    }
    return {};
}

QString DeviceFilter::opText(FilterOp op) {
    switch (op) {
        case FilterOp::Equal:
            return QStringLiteral("=");
        case FilterOp::NotEqual:
            return QStringLiteral("!=");
        case FilterOp::Less:
            return QStringLiteral("<");
        case FilterOp::LessOrEqual:
            return QStringLiteral("<=");
        case FilterOp::Greater:
            return QStringLiteral(">");
        case FilterOp::GreaterOrEqual:
            return QStringLiteral(">=");
    }
    return {};
}

}  // namespace otafleet::rollout
