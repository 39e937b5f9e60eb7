#include "ui/ReleaseTableModel.h"

#include "ui/ReportText.h"

#include <QColor>
#include <QLocale>
#include <QSet>

namespace otafleet::ui {

ReleaseTableModel::ReleaseTableModel(fleet::ReleaseService& releases, QObject* parent)
    : QAbstractTableModel(parent), m_releases(releases), m_rows(releases.releases()) {
    connect(&m_releases, &fleet::ReleaseService::releasesChanged, this, &ReleaseTableModel::sync);
}

int ReleaseTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int ReleaseTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ReleaseTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::ReleaseInfo& r = m_rows.at(index.row());
    switch (role) {
        case ReleaseIdRole:
            return r.id;
        case RevokedRole:
            return r.revoked;
        case Qt::DisplayRole:
            switch (index.column()) {
                case Version:
                    return r.version;
                case Product:
                    return r.product;
                case SecurityVersion:
                    return QString::number(r.securityVersion);
                case Hardware:
                    return r.hardware.join(QStringLiteral(", "));
                case Signers: {
                    QStringList names;
                    for (const QString& s : r.signers)
                        names << commonNameOf(s);
                    return names.join(QStringLiteral(" + "));
                }
                case Size:
                    return QLocale().formattedDataSize(r.size);
                case Imported:
                    return r.imported.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm"));
                case ImportedBy:
                    return r.importedBy;
                case State:
                    return r.stateText();
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            if (index.column() == Signers)
                return r.signers.join(u'\n');
            if (index.column() == Version)
                return tr("Release %1").arg(r.id);
            return {};
        case Qt::ForegroundRole:
            // Revoked releases stay listed (history) but recede.
            return r.revoked ? QVariant::fromValue(QColor(Qt::gray)) : QVariant();
        default:
            return {};
    }
}

QVariant ReleaseTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
        case Version:
            return tr("Version");
        case Product:
            return tr("Product");
        case SecurityVersion:
            return tr("Security");
        case Hardware:
            return tr("Hardware");
        case Signers:
            return tr("Signed by");
        case Size:
            return tr("Size");
        case Imported:
            return tr("Imported (UTC)");
        case ImportedBy:
            return tr("By");
        case State:
            return tr("State");
        default:
            return {};
    }
}

int ReleaseTableModel::rowOf(const QString& id) const {
    for (int row = 0; row < m_rows.size(); ++row)
        if (m_rows.at(row).id == id)
            return row;
    return -1;
}

void ReleaseTableModel::sync() {
    const QList<fleet::ReleaseInfo> fresh = m_releases.releases();
    QSet<QString> freshIds;
    for (const fleet::ReleaseInfo& r : fresh)
        freshIds.insert(r.id);
    // Gone rows, from the bottom so the row numbers above stay right.
    for (int row = static_cast<int>(m_rows.size()) - 1; row >= 0; --row) {
        if (!freshIds.contains(m_rows.at(row).id)) {
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            endRemoveRows();
        }
    }
    // Then walk the fresh list in its order: update what is in place, insert what is new.
    for (int i = 0; i < fresh.size(); ++i) {
        const fleet::ReleaseInfo& r = fresh.at(i);
        const int row = rowOf(r.id);
        if (row == i) {
            m_rows[i] = r;
            Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
        } else if (row < 0) {
            beginInsertRows({}, i, i);
            m_rows.insert(i, r);
            endInsertRows();
        } else {
            beginMoveRows({}, row, row, {}, i);
            m_rows.move(row, i);
            endMoveRows();
            m_rows[i] = r;
            Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
        }
    }
}

}  // namespace otafleet::ui
