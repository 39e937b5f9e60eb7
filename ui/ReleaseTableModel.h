// The fleet's releases (fleet::ReleaseService) as a table, newest first: version, product,
// security version, hardware, signers, size, when and by whom it was imported, and whether it
// is revoked. The rows follow releasesChanged(): rows that stayed keep their place and are
// updated, new ones are inserted and gone ones removed, so a selection survives a reload.
#pragma once

#include "fleet/ReleaseService.h"

#include <QAbstractTableModel>
#include <QList>

namespace otafleet::ui {

class ReleaseTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Version,
        Product,
        SecurityVersion,
        Hardware,
        Signers,
        Size,
        Imported,
        ImportedBy,
        State,
        ColumnCount
    };
    enum Role {
        ReleaseIdRole = Qt::UserRole + 1,
        RevokedRole,  // bool
    };

    explicit ReleaseTableModel(fleet::ReleaseService& releases, QObject* parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;
    [[nodiscard]] int rowOf(const QString& id) const;  // -1 if absent
    [[nodiscard]] const fleet::ReleaseInfo& releaseAt(int row) const { return m_rows.at(row); }

private:
    void sync();

    fleet::ReleaseService& m_releases;
    QList<fleet::ReleaseInfo> m_rows;
};

}  // namespace otafleet::ui
