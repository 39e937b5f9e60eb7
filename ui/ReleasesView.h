// The Releases tab: the fleet's releases (ReleaseTableModel) and, for the selected one, its
// verdict as the bundle report words it (signature, trust chain, payload hashes; every signer
// with key id, chain and expiry, checked again off the GUI thread), its manifest, the notes
// signed into it and the notes kept beside it (editable). Import bundle… and New release…
// (SignReleaseDialog) add releases; Revoke… withdraws one after a confirmation. Long work shows
// a progress bar with Cancel. An action the service does not allow is disabled with the reason
// as its tooltip.
#pragma once

#include "fleet/ReleaseService.h"

#include <QPointer>
#include <QWidget>

class QAction;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableView;

namespace otafleet::ui {

class ReleaseTableModel;
class SignReleaseDialog;

class ReleasesView : public QWidget {
    Q_OBJECT
public:
    explicit ReleasesView(fleet::ReleaseService& releases, QWidget* parent = nullptr);

    [[nodiscard]] ReleaseTableModel* model() const { return m_model; }
    [[nodiscard]] QTableView* table() const { return m_table; }
    [[nodiscard]] QString selectedRelease() const;
    void selectRelease(const QString& id);
    // The last report shown for the selected release (none while it is being checked).
    [[nodiscard]] const std::optional<fleet::BundleReport>& report() const { return m_report; }
    [[nodiscard]] QString verdictText() const;
    [[nodiscard]] QString signersText() const;
    [[nodiscard]] QString messageText() const;
    // The window's menu entries for this view, with their shortcuts: Show releases
    // (Ctrl+Shift+B), New release… (Ctrl+Shift+R), Import bundle… (Ctrl+Shift+I).
    [[nodiscard]] QList<QAction*> menuActions() const { return m_actions; }
    // Handed to every New release dialog (SignReleaseDialog::setDevelopmentPin): the demo's.
    void setDevelopmentPin(const QString& tokenLabel, const QString& pin) {
        m_developmentToken = tokenLabel;
        m_developmentPin = pin;
    }
    // Asking before a revocation is right for people; tests answer it themselves.
    void setConfirmRevoke(bool confirm) { m_confirmRevoke = confirm; }

public Q_SLOTS:
    // Asks for a .otab file, then imports it.
    void chooseImport();
    void importBundle(const QString& path);
    SignReleaseDialog* openSignDialog();
    void revokeSelected();
    void saveNotes();
    void cancelWork();

Q_SIGNALS:
    // The selected release's report is shown (after a selection or an import).
    void reportShown();
    // A request of this view ended (import, revoke, notes); error empty on success.
    void workFinished(const std::optional<otafleet::Error>& error);

private:
    void onSelection();
    void onInspected(const QString& id, const fleet::BundleReport& report);
    void onProgress(quint64 request, const QString& phase, qint64 done, qint64 total);
    void onFinished(quint64 request, const QString& result, const std::optional<Error>& error);
    void showDetails();
    void showMessage(const QString& text, bool error);
    void updateActions();
    // Shows `what` while request `request` runs and `done` when it succeeded.
    void track(quint64 request, const QString& what, const QString& done);

    fleet::ReleaseService& m_releases;
    ReleaseTableModel* m_model = nullptr;
    QTableView* m_table = nullptr;
    QPushButton* m_import = nullptr;
    QPushButton* m_create = nullptr;
    QPushButton* m_revoke = nullptr;
    QLabel* m_verdict = nullptr;
    QLabel* m_manifest = nullptr;
    QLabel* m_signers = nullptr;
    QPlainTextEdit* m_signedNotes = nullptr;
    QPlainTextEdit* m_notes = nullptr;
    QPushButton* m_saveNotes = nullptr;
    QLabel* m_message = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    QPointer<SignReleaseDialog> m_signDialog;
    QList<QAction*> m_actions;
    QString m_developmentToken;
    QString m_developmentPin;

    quint64 m_work = 0;  // the import, revoke or notes request running (one at a time)
    QString m_workDone;
    quint64 m_inspect = 0;  // the check of the selected release
    QString m_shownId;
    QString m_importedId;  // select it when the list has it
    std::optional<fleet::BundleReport> m_report;
    bool m_confirmRevoke = true;
};

}  // namespace otafleet::ui
