#include "ui/PagedDeviceModel.h"

#include "fleet/DeviceQuery.h"

#include <QBrush>
#include <QColor>
#include <QLocale>

#include <algorithm>
#include <climits>
#include <map>
#include <memory>

namespace otafleet::ui {

namespace {

fleet::DeviceSortKey sortKeyOf(int column) {
    switch (column) {
        case PagedDeviceModel::Name:
            return fleet::DeviceSortKey::Name;
        case PagedDeviceModel::Model:
            return fleet::DeviceSortKey::Model;
        case PagedDeviceModel::Hardware:
            return fleet::DeviceSortKey::Hardware;
        case PagedDeviceModel::Version:
            return fleet::DeviceSortKey::Version;
        case PagedDeviceModel::Group:
            return fleet::DeviceSortKey::Group;
        case PagedDeviceModel::State:
            return fleet::DeviceSortKey::State;
        case PagedDeviceModel::LastSeen:
            return fleet::DeviceSortKey::LastSeen;
        default:
            return fleet::DeviceSortKey::Id;  // tags have no order of their own
    }
}

}  // namespace

PagedDeviceModel::PagedDeviceModel(fleet::DevicePageSource& source, QObject* parent)
    : QAbstractTableModel(parent), m_source(source) {
    m_request.pageSize = kPageSize;
    startQuery();
}

PagedDeviceModel::~PagedDeviceModel() {
    // Pages nobody will show: the source skips those not started yet.
    for (Watcher* watcher : std::as_const(m_inFlight))
        watcher->future().cancel();
}

int PagedDeviceModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : m_rows;
}

int PagedDeviceModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QString PagedDeviceModel::stateText(const fleet::DeviceRow& row) {
    if (row.decommissioned)
        return tr("Decommissioned");
    QString text = row.online ? tr("Online") : tr("Offline");
    if (!row.healthOk && row.online)
        text += tr(" · unhealthy");
    return text;
}

const fleet::DeviceRow* PagedDeviceModel::cachedRow(int row) const {
    const int page = row / kPageSize;
    const auto it = m_pages.constFind(page);
    if (it == m_pages.cend())
        return nullptr;
    const int offset = row % kPageSize;
    if (offset >= it->size())
        return nullptr;
    // Most recently shown last: eviction drops what the user left behind.
    if (m_recent.isEmpty() || m_recent.last() != page) {
        m_recent.removeOne(page);
        m_recent.append(page);
    }
    return &it->at(offset);
}

std::optional<fleet::DeviceRow> PagedDeviceModel::rowAt(int row) const {
    if (const fleet::DeviceRow* r = cachedRow(row))
        return *r;
    return std::nullopt;
}

QVariant PagedDeviceModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const fleet::DeviceRow* r = cachedRow(index.row());
    if (r == nullptr) {
        // Asking is cheap and never waits: it starts a read on the source's thread, or notes
        // the wish until one of the reads running now is done.
        if (role == Qt::DisplayRole || role == LoadedRole)
            const_cast<PagedDeviceModel*>(this)->wantPage(index.row() / kPageSize);
        switch (role) {
            case Qt::DisplayRole:
                return index.column() == Name ? placeholderText() : QString();
            case Qt::ForegroundRole:
                return QBrush(QColor(0x80, 0x80, 0x80));
            case Qt::ToolTipRole:
                return m_lastError ? m_lastError->toString() : QVariant();
            case LoadedRole:
                return false;
            default:
                return {};
        }
    }
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case Name:
                    return r->displayName();
                case Model:
                    return r->model;
                case Hardware:
                    return r->hardware;
                case Version:
                    return r->version;
                case Group:
                    return r->group;
                case Tags:
                    return r->tags.join(QStringLiteral(", "));
                case State:
                    return stateText(*r);
                case LastSeen:
                    return r->lastSeen.isValid() && r->lastSeen.toMSecsSinceEpoch() > 0
                               ? QLocale().toString(r->lastSeen.toLocalTime(), QLocale::ShortFormat)
                               : tr("never");
                default:
                    return {};
            }
        case Qt::ToolTipRole:
            return index.column() == Name ? r->key : QVariant();
        case Qt::ForegroundRole:
            if (index.column() == State && r->decommissioned)
                return QBrush(QColor(0x80, 0x80, 0x80));
            if (index.column() == State && r->online)
                return QBrush(QColor(0x2e, 0x7d, 0x32));
            return {};
        case KeyRole:
            return r->key;
        case LoadedRole:
            return true;
        default:
            return {};
    }
}

QVariant PagedDeviceModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
        case Name:
            return tr("Device");
        case Model:
            return tr("Model");
        case Hardware:
            return tr("Hardware");
        case Version:
            return tr("Version");
        case Group:
            return tr("Group");
        case Tags:
            return tr("Tags");
        case State:
            return tr("State");
        case LastSeen:
            return tr("Last seen");
        default:
            return {};
    }
}

void PagedDeviceModel::sort(int column, Qt::SortOrder order) {
    const fleet::DeviceSortKey key = sortKeyOf(column);
    const bool descending = order == Qt::DescendingOrder;
    if (key == m_request.sort && descending == m_request.descending)
        return;
    m_request.sort = key;
    m_request.descending = descending;
    startQuery();
}

Status PagedDeviceModel::setFilter(const QString& expression, const QString& text) {
    fleet::DevicePageRequest next = m_request;
    next.filter = expression.trimmed();
    next.text = text.trimmed();
    if (auto ok = fleet::checkPageRequest(next); !ok)
        return ok;
    if (next.filter == m_request.filter && next.text == m_request.text)
        return {};
    m_request = next;
    startQuery();
    return {};
}

void PagedDeviceModel::startQuery() {
    ++m_generation;
    // Reads for the previous query are dropped when they arrive; those not started are skipped.
    for (Watcher* watcher : std::as_const(m_inFlight))
        watcher->future().cancel();
    m_inFlight.clear();
    m_wanted.clear();
    m_queryRunning = true;
    startFetch(0);
}

void PagedDeviceModel::refresh() {
    if (m_queryRunning)
        return;
    QList<int> pages = m_recent;  // the most recently shown are read first
    std::reverse(pages.begin(), pages.end());
    if (pages.isEmpty())
        pages.append(0);  // at least the count
    for (int page : std::as_const(pages)) {
        if (!m_inFlight.contains(page) && !m_wanted.contains(page))
            m_wanted.prepend(page);
    }
    startWanted();
}

void PagedDeviceModel::wantPage(int page) {
    if (m_queryRunning || m_inFlight.contains(page))
        return;
    m_wanted.removeOne(page);
    m_wanted.append(page);
    // Only the latest wishes matter: a fast scroll leaves most pages behind before they arrive.
    while (m_wanted.size() > kMaxCachedPages)
        m_wanted.removeFirst();
    startWanted();
}

void PagedDeviceModel::startWanted() {
    while (!m_wanted.isEmpty() && m_inFlight.size() < kMaxInFlight)
        startFetch(m_wanted.takeLast());
}

void PagedDeviceModel::startFetch(int page) {
    fleet::DevicePageRequest request = m_request;
    request.page = page;
    request.pageSize = kPageSize;
    auto* watcher = new Watcher(this);
    const quint64 generation = m_generation;
    const bool query = m_queryRunning && page == 0;
    connect(watcher, &Watcher::finished, this, [this, watcher, generation, page, query] {
        onFetched(watcher, generation, page, query);
    });
    m_inFlight.insert(page, watcher);
    watcher->setFuture(m_source.fetch(request));
}

void PagedDeviceModel::onFetched(Watcher* watcher, quint64 generation, int page, bool query) {
    watcher->deleteLater();
    if (generation != m_generation)
        return;  // an earlier query's page
    if (m_inFlight.value(page) == watcher)
        m_inFlight.remove(page);
    if (watcher->future().isCanceled() || watcher->future().resultCount() == 0) {
        startWanted();
        return;
    }
    const Result<fleet::DeviceRowPage> result = watcher->future().result();
    if (!result) {
        m_lastError = result.error();
        if (query)
            m_queryRunning = false;
        Q_EMIT fetchFailed(result.error());
        startWanted();
        return;
    }
    m_lastError.reset();
    ++m_pagesFetched;
    if (query) {
        beginResetModel();
        m_pages.clear();
        m_recent.clear();
        m_rows = static_cast<int>(std::min<qint64>(result->total, INT_MAX));
        m_pages.insert(0, result->rows);
        m_recent.append(0);
        m_queryRunning = false;
        m_ready = true;
        endResetModel();
        Q_EMIT queryFinished();
    } else {
        setTotal(result->total);
        keepPage(page, result->rows);
    }
    Q_EMIT pageLoaded(page);
    startWanted();
}

void PagedDeviceModel::setTotal(qint64 total) {
    const int rows = static_cast<int>(std::min<qint64>(total, INT_MAX));
    if (rows > m_rows) {
        beginInsertRows({}, m_rows, rows - 1);
        m_rows = rows;
        endInsertRows();
    } else if (rows < m_rows) {
        beginRemoveRows({}, rows, m_rows - 1);
        m_rows = rows;
        // Pages past the end go; the last one is cut to what is left of it.
        for (auto it = m_pages.begin(); it != m_pages.end();) {
            const int first = it.key() * kPageSize;
            if (first >= rows) {
                m_recent.removeOne(it.key());
                it = m_pages.erase(it);
                continue;
            }
            if (first + it->size() > rows)
                it->resize(rows - first);
            ++it;
        }
        endRemoveRows();
    }
}

void PagedDeviceModel::keepPage(int page, QList<fleet::DeviceRow> rows) {
    const int first = page * kPageSize;
    if (first >= m_rows)
        return;
    rows.resize(std::min<qsizetype>(rows.size(), m_rows - first));
    m_pages.insert(page, std::move(rows));
    m_recent.removeOne(page);
    m_recent.append(page);
    while (m_recent.size() > kMaxCachedPages) {
        const int evicted = m_recent.takeFirst();
        m_pages.remove(evicted);
        // Shown again, it reads as a placeholder until it is fetched anew.
        const int from = evicted * kPageSize;
        const int to = std::min(m_rows, from + kPageSize) - 1;
        if (from <= to)
            Q_EMIT dataChanged(index(from, 0), index(to, ColumnCount - 1));
    }
    const int last = std::min(m_rows, first + kPageSize) - 1;
    if (first <= last)
        Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
}

void PagedDeviceModel::collectKeys(const QList<int>& rows,
                                   std::function<void(const Result<QStringList>&)> done) {
    struct Collection {
        QList<int> rows;
        std::map<int, QList<fleet::DeviceRow>> pages;  // page -> rows, held or read now
        int waiting = 0;
        std::optional<Error> error;
        std::function<void(const Result<QStringList>&)> done;
    };
    auto c = std::make_shared<Collection>();
    c->rows = rows;
    c->done = std::move(done);
    const quint64 generation = m_generation;
    const auto finish = [this, c, generation] {
        if (c->error) {
            c->done(fail(*c->error));
            return;
        }
        if (generation != m_generation) {
            c->done(fail(QStringLiteral("fleet.query-changed"),
                         tr("The device list changed while the selection was read; select the "
                            "devices again.")));
            return;
        }
        QStringList keys;
        for (int row : std::as_const(c->rows)) {
            const auto& page = c->pages[row / kPageSize];
            if (row % kPageSize < page.size())
                keys.append(page.at(row % kPageSize).key);
        }
        c->done(keys);
    };
    QList<int> missing;
    for (int row : rows) {
        const int page = row / kPageSize;
        if (c->pages.contains(page))
            continue;
        if (const auto it = m_pages.constFind(page); it != m_pages.cend())
            c->pages[page] = *it;
        else if (!missing.contains(page)) {
            missing.append(page);
            c->pages[page] = {};
        }
    }
    if (missing.isEmpty()) {
        QMetaObject::invokeMethod(this, finish, Qt::QueuedConnection);
        return;
    }
    c->waiting = static_cast<int>(missing.size());
    for (int page : std::as_const(missing)) {
        fleet::DevicePageRequest request = m_request;
        request.page = page;
        request.pageSize = kPageSize;
        auto* watcher = new Watcher(this);
        connect(watcher, &Watcher::finished, this, [watcher, c, page, finish] {
            watcher->deleteLater();
            const auto future = watcher->future();
            if (future.resultCount() == 0)
                c->error = Error{QStringLiteral("fleet.cancelled"),
                                 tr("Reading the selection was cancelled.")};
            else if (const auto result = future.result(); !result)
                c->error = result.error();
            else
                c->pages[page] = result->rows;
            if (--c->waiting == 0)
                finish();
        });
        watcher->setFuture(m_source.fetch(request));
    }
}

}  // namespace otafleet::ui
