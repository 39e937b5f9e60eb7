// The device list of a fleet too large to hold: pages of rows read from where the devices live
// (a store file, or otafleetd's ListDevices), filtered and sorted there, off the caller's thread.
// A DevicePageSource answers each request with a future; the console's paged device table
// (ui/PagedDeviceModel.h) keeps a few pages and asks for the ones scrolled into view.
//
// Bulk changes of many devices (tag, untag, group, decommission) run the same way: the future
// reports progress (devices done of all) and stops between devices when asked to
// (BulkRequest::stop), keeping what was already changed.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QFuture>
#include <QList>
#include <QString>
#include <QStringList>

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

namespace otafleet::fleet {

// One device as the paged table shows it. `key` names the device where it lives (its device id).
struct DeviceRow {
    QString key;
    QString name;
    QString model;
    QString hardware;
    QString version;
    QString group;
    QStringList tags;
    bool online = false;
    bool decommissioned = false;
    bool healthOk = false;
    QDateTime lastSeen;

    [[nodiscard]] QString displayName() const { return name.isEmpty() ? key : name; }
    friend bool operator==(const DeviceRow&, const DeviceRow&) = default;
};

enum class DeviceSortKey { Id, Name, Model, Hardware, Version, Group, State, LastSeen };

struct DevicePageRequest {
    static constexpr int kMaxPageSize = 1000;
    static constexpr qsizetype kMaxTextLength = 200;

    QString filter;  // fleet::DeviceQuery language; empty: every device
    // Free text: devices whose id, name, serial, model, hardware or version contains it (case
    // as the store compares: ASCII letters ignore case in SQLite).
    QString text;
    DeviceSortKey sort = DeviceSortKey::Id;
    bool descending = false;
    int page = 0;  // 0-based
    int pageSize = 200;
};

struct DeviceRowPage {
    QList<DeviceRow> rows;
    qint64 total = 0;  // devices matching the request's filter and text
};

enum class BulkAction { Tag, Untag, Group, Decommission };

[[nodiscard]] QString bulkActionName(BulkAction action);  // "tag", "untag", "group", ...

struct BulkRequest {
    static constexpr qsizetype kMaxDevices = 100'000;
    static constexpr qsizetype kMaxValueLength = 64;

    BulkAction action = BulkAction::Tag;
    QStringList keys;  // the devices' keys (DeviceRow::key)
    QString value;     // the tag, or the group (empty: no group); unused for Decommission
    QString reason;    // Decommission: kept in the audit log where there is one
    // Set it (from any thread) to stop between devices; the outcome then says how far it got.
    // (QFuture::cancel() stops too, but a cancelled future drops the outcome.)
    std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
};

struct BulkOutcome {
    qint64 changed = 0;
    QList<std::pair<QString, Error>> failed;  // per device key
    bool cancelled = false;
};

// Checks what a request may hold before anything is changed. Errors fleet.bulk-empty,
// fleet.bulk-too-many, fleet.bulk-value.
[[nodiscard]] Status checkBulkRequest(const BulkRequest& request);
// Errors filter.too-long for free text beyond kMaxTextLength, filter.* for the expression.
[[nodiscard]] Status checkPageRequest(const DevicePageRequest& request);

class DevicePageSource {
public:
    virtual ~DevicePageSource();

    // Answers on a worker thread; the future holds the rows or the error (filter.*, store.*,
    // server.*). Never waits on the caller's thread.
    [[nodiscard]] virtual QFuture<Result<DeviceRowPage>> fetch(
        const DevicePageRequest& request) = 0;
    // Progress (QFuture::progressValue() of progressMaximum()) counts devices; request.stop
    // stops between devices. The outcome lists each device that could not be changed and why.
    [[nodiscard]] virtual QFuture<Result<BulkOutcome>> apply(const BulkRequest& request) = 0;
    // Why the signed-in user may not run `action` here (a viewer on otafleetd), or nothing.
    [[nodiscard]] virtual std::optional<QString> bulkBlocker(BulkAction action) const;

protected:
    DevicePageSource() = default;
};

}  // namespace otafleet::fleet
