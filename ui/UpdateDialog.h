// Pushes one bundle (.otab) to one device and follows it: a progress bar and the phase
// (transferring, verifying, installing, rebooting, checking health, committing), then either
// the new version or the error sentence. Cancel stops a running update; closing the dialog while
// it runs cancels too, so no update is left running unseen.
#pragma once

#include "fleet/FleetService.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace otafleet::ui {

class UpdateDialog : public QDialog {
    Q_OBJECT
public:
    enum class Stage { Choosing, Running, Succeeded, Failed };

    UpdateDialog(fleet::FleetService& fleet, qint64 deviceId, QWidget* parent = nullptr);

    // Presets the bundle (tests, drag and drop, a command-line argument).
    void setBundlePath(const QString& path);
    [[nodiscard]] QString bundlePath() const { return m_bundlePath; }
    [[nodiscard]] Stage stage() const { return m_stage; }
    [[nodiscard]] QString phaseText() const;
    [[nodiscard]] QString resultText() const;

public Q_SLOTS:
    void start();
    void chooseBundle();
    void reject() override;

Q_SIGNALS:
    void updateFinished(bool succeeded);

private:
    void onProgress(qint64 id, const QString& phase, qint64 done, qint64 total);
    void onFinished(qint64 id, link::LinkOperation operation, const std::optional<Error>& error);
    void setStage(Stage stage);
    void showDevice();

    fleet::FleetService& m_fleet;
    qint64 m_deviceId = 0;
    QString m_bundlePath;
    Stage m_stage = Stage::Choosing;
    QString m_lastPhase;

    QLabel* m_device = nullptr;
    QLineEdit* m_file = nullptr;
    QPushButton* m_choose = nullptr;
    QCheckBox* m_reboot = nullptr;
    QCheckBox* m_commit = nullptr;
    QLabel* m_phase = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_result = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_cancel = nullptr;
};

}  // namespace otafleet::ui
