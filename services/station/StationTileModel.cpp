#include "station/StationTileModel.h"

namespace otafleet::station {

StationTileModel::StationTileModel(QObject* parent) : QAbstractTableModel(parent) {}

void StationTileModel::attach(Station& station) {
    if (m_station) {
        m_station->disconnect(this);
    }
    m_station = &station;
    connect(&station, &Station::unitStarted, this, &StationTileModel::onUnitStarted);
    connect(&station, &Station::unitStage, this, &StationTileModel::onUnitStage);
    connect(&station, &Station::unitProgress, this, &StationTileModel::onUnitProgress);
    connect(&station, &Station::unitFinished, this, &StationTileModel::onUnitFinished);
}

void StationTileModel::clear() {
    beginResetModel();
    m_tiles.clear();
    m_records.clear();
    endResetModel();
    Q_EMIT summaryChanged(summarize(m_records));
}

int StationTileModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_tiles.size());
}

int StationTileModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : Columns;
}

QVariant StationTileModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return {};
    }
    const Tile& t = m_tiles.at(index.row());
    switch (role) {
        case PortRole:
            return t.port;
        case SerialRole:
            return t.serial;
        case StageRole:
            return t.stage;
        case ProgressRole:
            return t.progress;
        case ResultRole:
            return t.result;
        case ReasonRole:
            return t.reason;
        case Qt::ToolTipRole:
            return t.reason.isEmpty() ? QVariant() : QVariant(t.reason);
        case Qt::DisplayRole:
            switch (index.column()) {
                case PortColumn:
                    return t.port;
                case SerialColumn:
                    return t.serial;
                case StageColumn:
                    return t.stage;
                case ProgressColumn:
                    return t.progress;
                case ResultColumn:
                    return t.result;
                default:
                    break;
            }
            break;
        default:
            break;
    }
    return {};
}

QVariant StationTileModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
        case PortColumn:
            return tr("Port");
        case SerialColumn:
            return tr("Serial number");
        case StageColumn:
            return tr("Stage");
        case ProgressColumn:
            return tr("Upload %");
        case ResultColumn:
            return tr("Result");
        default:
            return {};
    }
}

QHash<int, QByteArray> StationTileModel::roleNames() const {
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(PortRole, "port");
    names.insert(SerialRole, "serialNumber");
    names.insert(StageRole, "stage");
    names.insert(ProgressRole, "progress");
    names.insert(ResultRole, "result");
    names.insert(ReasonRole, "reason");
    return names;
}

int StationTileModel::rowOf(const QString& port) {
    for (int row = 0; row < m_tiles.size(); ++row) {
        if (m_tiles.at(row).port == port) {
            return row;
        }
    }
    const int row = int(m_tiles.size());
    beginInsertRows({}, row, row);
    m_tiles.append(Tile{port, {}, {}, 0, {}, {}});
    endInsertRows();
    return row;
}

void StationTileModel::changed(int row) {
    Q_EMIT dataChanged(index(row, 0), index(row, Columns - 1));
}

void StationTileModel::onUnitStarted(const QString& port) {
    const int row = rowOf(port);
    m_tiles[row] = Tile{port, {}, tr("connect"), 0, QStringLiteral("running"), {}};
    changed(row);
}

void StationTileModel::onUnitStage(const QString& port, const QString& serial,
                                   const QString& stage) {
    const int row = rowOf(port);
    m_tiles[row].serial = serial;
    m_tiles[row].stage = stage;
    if (stage != QLatin1String("upload") && m_tiles[row].progress > 0) {
        m_tiles[row].progress = 100;  // past the upload
    }
    changed(row);
}

void StationTileModel::onUnitProgress(const QString& port, qint64 done, qint64 total) {
    const int row = rowOf(port);
    m_tiles[row].progress = total > 0 ? int(done * 100 / total) : 0;
    changed(row);
}

void StationTileModel::onUnitFinished(const UnitRecord& record) {
    const int row = rowOf(record.port);
    Tile& t = m_tiles[row];
    t.serial = record.serialNumber;
    t.result = record.result;
    t.stage = record.passed() ? tr("done") : record.failedStage;
    t.reason = record.passed()
                   ? QString()
                   : QStringLiteral("%1 [%2]").arg(record.failureReason, record.failureCode);
    if (record.passed()) {
        t.progress = 100;
    }
    changed(row);
    m_records.append(record);
    Q_EMIT summaryChanged(summarize(m_records));
}

}  // namespace otafleet::station
