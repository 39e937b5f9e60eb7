// The audit log view: a filter bar (actor, action, subject, a time range, free text), the
// matching entries (AuditTableModel), "Verify chain", which checks the hash chain and names and
// selects the first altered entry, and "Export…" of the shown entries to CSV or JSON. Everything
// is asked of a fleet::AuditService, which works off the GUI thread; the view follows its
// answers, and reloads when the log grew. A user whose role may not read the log sees why.
#pragma once

#include "fleet/AuditService.h"

#include <QTimer>
#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace otafleet::ui {

class AuditTableModel;

class AuditView : public QWidget {
    Q_OBJECT
public:
    explicit AuditView(fleet::AuditService& audit, QWidget* parent = nullptr);

    [[nodiscard]] AuditTableModel* model() const { return m_model; }
    [[nodiscard]] QTableView* table() const { return m_table; }
    [[nodiscard]] fleet::AuditFilter filter() const;
    void setFilter(const fleet::AuditFilter& filter);
    // The line under the filter bar: how many entries are shown, or why none are.
    [[nodiscard]] QString statusText() const;
    // The last verification's sentence (empty before one).
    [[nodiscard]] QString verdictText() const;

    // Writes the shown entries (.json: JSON, else CSV). Error io.write-failed.
    [[nodiscard]] Status exportShown(const QString& path) const;

public Q_SLOTS:
    void reload();
    void verify();
    void chooseExport();

Q_SIGNALS:
    // The table shows the answer to the filter (or the error in statusText()).
    void entriesShown();
    // verdictText() holds the verification's outcome.
    void verificationShown();

protected:
    // A server's log grows while other tabs are open: it is read again when the tab is opened.
    void showEvent(QShowEvent* event) override;

private:
    void onEntries(quint64 request, const fleet::AuditEntries& entries);
    void onVerified(quint64 request, const fleet::AuditCheck& check);
    void onFailed(quint64 request, const Error& error);
    void updatePermissions();
    void showVerdict(const QString& text, bool good);

    fleet::AuditService& m_audit;
    AuditTableModel* m_model = nullptr;
    QLineEdit* m_actor = nullptr;
    QComboBox* m_action = nullptr;
    QLineEdit* m_subject = nullptr;
    QLineEdit* m_text = nullptr;
    QCheckBox* m_fromOn = nullptr;
    QDateTimeEdit* m_from = nullptr;
    QCheckBox* m_toOn = nullptr;
    QDateTimeEdit* m_to = nullptr;
    QPushButton* m_verify = nullptr;
    QPushButton* m_export = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_verdict = nullptr;
    QTableView* m_table = nullptr;
    QTimer m_debounce;
    quint64 m_entriesRequest = 0;
    quint64 m_verifyRequest = 0;
    std::optional<fleet::AuditCheck> m_lastCheck;
};

}  // namespace otafleet::ui
