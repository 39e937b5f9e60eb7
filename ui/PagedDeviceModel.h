// The device table of a fleet too large to hold (a million devices): a table model whose row
// count is the number of devices the filter matches, told by the store up front, and whose rows
// are read a page at a time from a fleet::DevicePageSource, off the GUI thread. A row whose page
// has not arrived shows placeholderText() and fills in when it does; a few pages are kept
// (least recently shown dropped first) and at most kMaxInFlight are asked for at once, newest
// wish first, so a fast scroll asks only for where it stopped. Sorting and filtering are done by
// the store: sort() and setFilter() start a new query, and the old rows stay on screen until its
// first page (and count) arrives.
#pragma once

#include "fleet/DevicePages.h"

#include <QAbstractTableModel>
#include <QFutureWatcher>
#include <QHash>
#include <QList>

#include <functional>
#include <optional>

namespace otafleet::ui {

class PagedDeviceModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Model, Hardware, Version, Group, Tags, State, LastSeen, ColumnCount };
    enum Role { KeyRole = Qt::UserRole + 1, LoadedRole };
    static constexpr int kPageSize = 200;
    static constexpr int kMaxCachedPages = 16;
    static constexpr int kMaxInFlight = 3;

    explicit PagedDeviceModel(fleet::DevicePageSource& source, QObject* parent = nullptr);
    ~PagedDeviceModel() override;

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index,
                                int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    // A filter expression (fleet::DeviceQuery) and free text; an expression that does not parse
    // is refused at once (filter.*) and the table stays as it was.
    [[nodiscard]] Status setFilter(const QString& expression, const QString& text = {});
    [[nodiscard]] QString filterExpression() const { return m_request.filter; }
    [[nodiscard]] QString filterText() const { return m_request.text; }
    [[nodiscard]] fleet::DeviceSortKey sortKey() const { return m_request.sort; }
    [[nodiscard]] bool sortDescending() const { return m_request.descending; }
    // Reads the count and the pages held now again (devices changed state); rows keep their
    // place and the selection stays.
    void refresh();

    // Whether the first page of the current query arrived: rowCount() is the store's count.
    [[nodiscard]] bool isReady() const { return m_ready; }
    [[nodiscard]] std::optional<fleet::DeviceRow> rowAt(int row) const;
    [[nodiscard]] int cachedPageCount() const { return static_cast<int>(m_pages.size()); }
    [[nodiscard]] qint64 pagesFetched() const { return m_pagesFetched; }
    [[nodiscard]] static QString placeholderText() { return tr("Loading…"); }
    [[nodiscard]] static QString stateText(const fleet::DeviceRow& row);

    // The keys of `rows` (of the current query): those held now at once, the others read from
    // the source (pages not kept); `done` is called on this object's thread, never inside.
    void collectKeys(const QList<int>& rows, std::function<void(const Result<QStringList>&)> done);

Q_SIGNALS:
    // The current query's count (and first page) arrived.
    void queryFinished();
    void pageLoaded(int page);
    void fetchFailed(const otafleet::Error& error);

private:
    using Watcher = QFutureWatcher<Result<fleet::DeviceRowPage>>;
    void startQuery();
    void wantPage(int page);
    void startFetch(int page);
    void onFetched(Watcher* watcher, quint64 generation, int page, bool query);
    void keepPage(int page, QList<fleet::DeviceRow> rows);
    void setTotal(qint64 total);
    void startWanted();
    [[nodiscard]] const fleet::DeviceRow* cachedRow(int row) const;

    fleet::DevicePageSource& m_source;
    fleet::DevicePageRequest m_request;  // the current query; page set per fetch
    quint64 m_generation = 0;
    bool m_ready = false;
    bool m_queryRunning = false;
    int m_rows = 0;
    QHash<int, QList<fleet::DeviceRow>> m_pages;
    mutable QList<int> m_recent;  // cached pages, most recently shown last
    QHash<int, Watcher*> m_inFlight;
    QList<int> m_wanted;  // not started yet, newest last
    std::optional<Error> m_lastError;
    qint64 m_pagesFetched = 0;
};

}  // namespace otafleet::ui
