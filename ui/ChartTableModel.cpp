#include "ui/ChartTableModel.h"

#include <QLocale>

namespace otafleet::ui {

namespace {

QString csvField(const QVariant& value) {
    QString text;
    if (value.typeId() == QMetaType::Double)
        text = QString::number(value.toDouble(), 'g', 15);
    else
        text = value.toString();
    if (text.contains(u',') || text.contains(u'"') || text.contains(u'\n') || text.contains(u'\r'))
        text = u'"' + QString(text).replace(QStringLiteral("\""), QStringLiteral("\"\"")) + u'"';
    return text;
}

}  // namespace

ChartTableModel::ChartTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ChartTableModel::setTable(ChartTable table) {
    beginResetModel();
    m_table = std::move(table);
    endResetModel();
}

int ChartTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_table.rows.size());
}

int ChartTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_table.headers.size());
}

QVariant ChartTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const QVariantList& row = m_table.rows.at(index.row());
    if (index.column() >= row.size())
        return {};
    const QVariant& value = row.at(index.column());
    switch (role) {
        case Qt::DisplayRole:
            if (value.typeId() == QMetaType::Double)
                return QLocale().toString(value.toDouble(), 'f', 2);
            if (value.typeId() == QMetaType::LongLong)
                return QLocale().toString(value.toLongLong());
            return value.toString();
        case Qt::EditRole:
            return value;
        case Qt::TextAlignmentRole:
            return value.typeId() == QMetaType::QString
                       ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                       : QVariant(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return {};
    }
}

QVariant ChartTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole || orientation != Qt::Horizontal || section < 0 ||
        section >= m_table.headers.size())
        return QAbstractTableModel::headerData(section, orientation, role);
    return m_table.headers.at(section);
}

QByteArray ChartTableModel::toCsv() const {
    QStringList lines;
    QStringList header;
    for (const QString& h : m_table.headers)
        header.append(csvField(h));
    lines.append(header.join(u','));
    for (const QVariantList& row : m_table.rows) {
        QStringList fields;
        for (const QVariant& value : row)
            fields.append(csvField(value));
        lines.append(fields.join(u','));
    }
    return (lines.join(QStringLiteral("\r\n")) + QStringLiteral("\r\n")).toUtf8();
}

}  // namespace otafleet::ui
