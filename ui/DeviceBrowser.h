// The device list of a fleet too large to hold (otafleetd's): a filter bar, the paged table
// (ui/PagedDeviceModel) with multi-select, and bulk actions on the selected devices — tag,
// remove a tag, set the group, decommission, update (a rollout targeting them) and export to
// CSV. Each bulk action asks first, shows progress with Cancel for long work, and says what
// changed and what did not; an action the user's role does not allow is disabled with a
// tooltip saying why (DevicePageSource::bulkBlocker).
//
// The filter bar takes a filter expression (`model = gateway-x1 and version < 1.2.0`, the
// language of `otafleetctl fleet devices --filter`) or, when what is typed is no expression and
// has no operator, free text searched in id, name, serial, model, hardware and version.
#pragma once

#include "fleet/DevicePages.h"

#include <QFutureWatcher>
#include <QPointer>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <optional>

class QAction;
class QLabel;
class QLineEdit;
class QProgressDialog;
class QTableView;
class QToolBar;

namespace otafleet::ui {

class PagedDeviceModel;

class DeviceBrowser : public QWidget {
    Q_OBJECT
public:
    static constexpr int kRefreshMs = 5000;        // live state of the devices on screen
    static constexpr int kMaxUpdateTargets = 200;  // ids one rollout target expression names

    explicit DeviceBrowser(std::shared_ptr<fleet::DevicePageSource> source,
                           QWidget* parent = nullptr);
    ~DeviceBrowser() override;

    [[nodiscard]] PagedDeviceModel* model() const { return m_model; }
    [[nodiscard]] QTableView* table() const { return m_table; }
    [[nodiscard]] QLineEdit* filterBar() const { return m_filterBar; }
    [[nodiscard]] QLabel* countLabel() const { return m_count; }
    [[nodiscard]] QAction* action(fleet::BulkAction action) const;
    [[nodiscard]] QAction* updateAction() const { return m_update; }
    [[nodiscard]] QAction* exportAction() const { return m_export; }
    // The device of the current row, once its page is there.
    [[nodiscard]] std::optional<fleet::DeviceRow> currentDevice() const;
    // The filter expression the list applies now (empty with free text or nothing).
    [[nodiscard]] QString filterExpression() const;
    [[nodiscard]] const std::optional<Result<fleet::BulkOutcome>>& lastBulkOutcome() const {
        return m_lastOutcome;
    }
    // Tests answer the questions themselves: no confirmation, and the tag or group given here.
    void setConfirm(bool confirm) { m_confirm = confirm; }
    void setPresetValue(const QString& value) { m_presetValue = value; }

public Q_SLOTS:
    // Applies the bar: an expression, else free text; a bad expression is explained in
    // message() and the list stays as it was.
    void applyFilterBar();
    void showDevicesMatching(const QString& expression);
    // Runs `action` on the selected devices (asks for the tag or group, and to confirm).
    void runBulk(fleet::BulkAction action);
    // Asks for a file and writes the devices the list shows (its filter and order) as CSV.
    void chooseExport();
    // Writes them to `path`, reading page after page on the source's thread; exportFinished().
    void exportShown(const QString& path);
    void refresh();

Q_SIGNALS:
    void currentDeviceChanged();
    // Short news for a status bar (errors come with their sentence).
    void message(const QString& text);
    // The selected devices should get a release: the filter expression naming them.
    void updateRequested(const QString& targetExpression);
    // A bulk change ended (lastBulkOutcome() says how).
    void bulkFinished();
    // An export ended: written, or why not (the error's sentence).
    void exportFinished(bool written, const QString& message);

private:
    void updateActions();
    void updateCount();
    void startBulk(fleet::BulkRequest request);
    void requestUpdate();
    [[nodiscard]] QList<int> selectedRows() const;

    std::shared_ptr<fleet::DevicePageSource> m_source;
    PagedDeviceModel* m_model = nullptr;
    QLineEdit* m_filterBar = nullptr;
    QTableView* m_table = nullptr;
    QLabel* m_count = nullptr;
    QToolBar* m_toolbar = nullptr;
    QList<std::pair<fleet::BulkAction, QAction*>> m_bulkActions;
    QAction* m_update = nullptr;
    QAction* m_export = nullptr;
    QTimer m_refresh;
    bool m_confirm = true;
    QString m_presetValue;
    QPointer<QProgressDialog> m_progress;
    QFutureWatcher<Result<fleet::BulkOutcome>> m_bulk;
    std::shared_ptr<std::atomic<bool>> m_bulkStop;
    fleet::BulkAction m_bulkAction = fleet::BulkAction::Tag;
    std::optional<Result<fleet::BulkOutcome>> m_lastOutcome;
    qint64 m_unfiltered = -1;  // the fleet's size, for "N of M"
};

}  // namespace otafleet::ui
