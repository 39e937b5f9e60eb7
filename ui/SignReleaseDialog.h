// Makes a new release from payload files and signs it with keys of the fleet's PKI: the
// manifest's fields (product, version, hardware, security version, expiry, signed notes), the
// payloads, the signer, and for a two-person release a second, different signer. Create runs
// the steps one after the other through the ReleaseService, each off the GUI thread: build the
// bundle (progress, Cancel), one signature per signer (the token's PIN asked for each in a
// PinDialog; a PIN the token refuses is said and asked again, the bundle is not rebuilt), then
// import it as a release. Cancelling at any step keeps nothing.
#pragma once

#include "fleet/ReleaseService.h"

#include <QDialog>
#include <QList>
#include <QPointer>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace otafleet::ui {

class PinDialog;

class SignReleaseDialog : public QDialog {
    Q_OBJECT
public:
    explicit SignReleaseDialog(fleet::ReleaseService& releases, QWidget* parent = nullptr);
    ~SignReleaseDialog() override;

    // The demo's development token: its PIN dialogs come pre-filled (PinDialog::
    // setDevelopmentPin), for that token label only. Never for a real token.
    void setDevelopmentPin(const QString& tokenLabel, const QString& pin);
    // A payload NAME from FILE (what "Add payload…" does after its file dialog).
    void addPayload(const QString& name, const QString& path);
    // The PIN dialog open now, if any (tests type into it).
    [[nodiscard]] PinDialog* pinDialog() const;
    [[nodiscard]] QString statusText() const;
    [[nodiscard]] bool isWorking() const { return m_request != 0; }
    // The signers offered, once they are read.
    [[nodiscard]] QList<fleet::ReleaseSigner> signers() const { return m_signers; }

public Q_SLOTS:
    void start();
    void reject() override;

Q_SIGNALS:
    void signersLoaded();
    // The release was made and imported; the dialog closes.
    void releaseCreated(const QString& id);
    // The dialog stopped on an error (shown in it), or a PIN was refused and is asked again.
    void failed(const otafleet::Error& error);

private:
    void chooseFile();
    void onSigners(const Result<QList<fleet::ReleaseSigner>>& signers);
    void onProgress(quint64 request, const QString& phase, qint64 done, qint64 total);
    void onFinished(quint64 request, const QString& result, const std::optional<Error>& error);
    void nextSignature(const QString& refusal = {});
    void sign(const fleet::ReleaseSigner& signer, QByteArray pin);
    void stop(const std::optional<Error>& error);
    void setWorking(bool working);
    void showStatus(const QString& text, bool error = false);
    [[nodiscard]] std::optional<fleet::ReleaseSigner> signerNamed(const QString& name) const;
    [[nodiscard]] Result<fleet::ReleaseDraft> draft() const;
    void updateButtons();

    enum class Step { Idle, Building, Signing, Importing };

    fleet::ReleaseService& m_releases;
    QList<fleet::ReleaseSigner> m_signers;
    QLineEdit* m_product = nullptr;
    QLineEdit* m_version = nullptr;
    QLineEdit* m_hardware = nullptr;
    QSpinBox* m_securityVersion = nullptr;
    QSpinBox* m_validDays = nullptr;
    QPlainTextEdit* m_notes = nullptr;
    QListWidget* m_payloads = nullptr;
    QPushButton* m_addPayload = nullptr;
    QPushButton* m_removePayload = nullptr;
    QComboBox* m_signer = nullptr;
    QCheckBox* m_twoPerson = nullptr;
    QComboBox* m_secondSigner = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_progress = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
    QPushButton* m_create = nullptr;
    QPointer<PinDialog> m_pinDialog;
    QString m_developmentToken;
    QString m_developmentPin;

    Step m_step = Step::Idle;
    quint64 m_request = 0;
    QString m_bundlePath;          // the work bundle being signed
    QStringList m_pendingSigners;  // names still to sign, in order
    int m_signaturesTotal = 0;
    bool m_cancelling = false;
};

}  // namespace otafleet::ui
