#include "ui/DeviceFilterProxy.h"

#include "ui/DeviceTableModel.h"

namespace otafleet::ui {

DeviceFilterProxy::DeviceFilterProxy(fleet::FleetService& fleet, QObject* parent)
    : QSortFilterProxyModel(parent), m_fleet(fleet) {
    // A device's row changes when it reports: its version or state may now (not) match.
    setDynamicSortFilter(true);
}

Status DeviceFilterProxy::setExpression(const QString& expression) {
    auto query = fleet::DeviceQuery::parse(expression);
    if (!query)
        return fail(query.error());
    m_query = std::move(*query);
    m_expression = expression.trimmed();
    invalidateFilter();
    return {};
}

bool DeviceFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    if (m_query.matchesAll())
        return true;
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const auto device = m_fleet.device(index.data(DeviceTableModel::DeviceIdRole).toLongLong());
    return device && m_query.matches(*device, QDateTime::currentDateTimeUtc());
}

}  // namespace otafleet::ui
