// The device table filtered by a device filter expression (fleet::DeviceQuery, the language of
// `otafleetctl fleet devices --filter`): what the filter bar and the dashboard's bars set.
#pragma once

#include "fleet/DeviceQuery.h"
#include "fleet/FleetService.h"

#include <QSortFilterProxyModel>

namespace otafleet::ui {

class DeviceFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit DeviceFilterProxy(fleet::FleetService& fleet, QObject* parent = nullptr);

    // Keeps the previous filter when `expression` does not parse (error filter.*).
    [[nodiscard]] Status setExpression(const QString& expression);
    [[nodiscard]] const QString& expression() const { return m_expression; }

protected:
    [[nodiscard]] bool filterAcceptsRow(int sourceRow,
                                        const QModelIndex& sourceParent) const override;

private:
    fleet::FleetService& m_fleet;
    fleet::DeviceQuery m_query;
    QString m_expression;
};

}  // namespace otafleet::ui
