// otafleetd's users (fleet::UserService) as a table: name, role, sign-in (password or operator
// certificate), state (active or disabled), created. Rows follow usersChanged().
#pragma once

#include "fleet/UserService.h"

#include <QAbstractTableModel>

namespace otafleet::ui {

class UserTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Role, SignIn, State, Created, ColumnCount };
    enum DataRole { UserNameRole = Qt::UserRole + 1, DisabledRole };

    explicit UserTableModel(fleet::UserService& users, QObject* parent = nullptr);

    [[nodiscard]] int rowOf(const QString& name) const;  // -1 if absent
    [[nodiscard]] std::optional<fleet::UserAccount> user(int row) const;

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;

private:
    void reload();

    fleet::UserService& m_users;
    QList<fleet::UserAccount> m_rows;
};

}  // namespace otafleet::ui
