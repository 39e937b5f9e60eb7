#include "ui/UserTableModel.h"

#include <QBrush>
#include <QPalette>

namespace otafleet::ui {

UserTableModel::UserTableModel(fleet::UserService& users, QObject* parent)
    : QAbstractTableModel(parent), m_users(users), m_rows(users.users()) {
    connect(&m_users, &fleet::UserService::usersChanged, this, &UserTableModel::reload);
}

void UserTableModel::reload() {
    QList<fleet::UserAccount> fresh = m_users.users();
    if (fresh == m_rows)
        return;
    beginResetModel();
    m_rows = std::move(fresh);
    endResetModel();
}

int UserTableModel::rowOf(const QString& name) const {
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).name == name)
            return i;
    }
    return -1;
}

std::optional<fleet::UserAccount> UserTableModel::user(int row) const {
    if (row < 0 || row >= m_rows.size())
        return std::nullopt;
    return m_rows.at(row);
}

int UserTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int UserTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant UserTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::UserAccount& u = m_rows.at(index.row());
    switch (role) {
        case UserNameRole:
            return u.name;
        case DisabledRole:
            return u.disabled;
        case Qt::DisplayRole:
            switch (index.column()) {
                case Name:
                    return u.name;
                case Role:
                    return u.role;
                case SignIn:
                    return u.certificateBound ? tr("operator certificate") : tr("password");
                case State:
                    return u.disabled ? tr("disabled") : tr("active");
                case Created:
                    return u.created.isValid() ? u.created.toLocalTime().toString(
                                                     QStringLiteral("yyyy-MM-dd HH:mm"))
                                               : QString();
                default:
                    return {};
            }
        case Qt::ForegroundRole:
            return u.disabled ? QVariant(QPalette().brush(QPalette::Disabled, QPalette::Text))
                              : QVariant();
        default:
            return {};
    }
}

QVariant UserTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case Name:
            return tr("User");
        case Role:
            return tr("Role");
        case SignIn:
            return tr("Signs in with");
        case State:
            return tr("State");
        case Created:
            return tr("Created");
        default:
            return {};
    }
}

}  // namespace otafleet::ui
