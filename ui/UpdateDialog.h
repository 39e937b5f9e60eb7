// Pushes one bundle (.otab) to one device and follows it. Before anything is pushed it shows
// what the bundle is (manifest: product, version, security version, hardware, dates, payloads),
// who signed it (subject, key id, chain, expiry) and the verdict of the same check the device
// runs, in plain words; Start stays disabled while a device would refuse the bundle. Then a
// progress bar and the phase (transferring, verifying, installing, rebooting, checking health,
// committing), then either the new version or the error sentence. Cancel stops a running
// update; closing the dialog while it runs cancels too, so no update is left running unseen.
// An MCU-class device takes a signed MCUboot image instead: the dialog shows its version, hash
// and signing key as checked against the release key, and runs upload, test boot (reset, wait
// for the device) and confirm; an interrupted upload resumes from the device's offset on Try
// again.
#pragma once

#include "fleet/FleetService.h"

#include <QDialog>

class QCheckBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace otafleet::ui {

class UpdateDialog : public QDialog {
    Q_OBJECT
public:
    enum class Stage { Choosing, Running, Succeeded, Failed };

    // `deviceId` 0: only the bundle report, checked without a device; nothing can be started.
    UpdateDialog(fleet::FleetService& fleet, qint64 deviceId, QWidget* parent = nullptr);

    // Presets the bundle (tests, drag and drop, a command-line argument).
    void setBundlePath(const QString& path);
    [[nodiscard]] QString bundlePath() const { return m_bundlePath; }
    [[nodiscard]] Stage stage() const { return m_stage; }
    [[nodiscard]] QString phaseText() const;
    [[nodiscard]] QString resultText() const;
    // The bundle check: none while it runs or before a bundle is chosen.
    [[nodiscard]] const std::optional<fleet::BundleReport>& report() const { return m_report; }
    [[nodiscard]] QString verdictText() const;
    [[nodiscard]] QString signersText() const;  // plain text of the signers shown
    [[nodiscard]] bool canStart() const;

public Q_SLOTS:
    void start();
    void chooseBundle();
    void reject() override;

Q_SIGNALS:
    void updateFinished(bool succeeded);
    // The chosen bundle was checked; report() holds the outcome.
    void bundleChecked();

private:
    void onProgress(qint64 id, const QString& phase, qint64 done, qint64 total);
    void onFinished(qint64 id, link::LinkOperation operation, const std::optional<Error>& error);
    void setStage(Stage stage);
    void showDevice();
    void onInspected(const QString& path, const fleet::BundleReport& report);
    void showReport();
    void fitToContents();

    fleet::FleetService& m_fleet;
    qint64 m_deviceId = 0;
    QString m_bundlePath;
    Stage m_stage = Stage::Choosing;
    QString m_lastPhase;
    bool m_checking = false;
    std::optional<fleet::BundleReport> m_report;

    QLabel* m_device = nullptr;
    QLineEdit* m_file = nullptr;
    QPushButton* m_choose = nullptr;
    bool m_mcu = false;  // the device takes MCUboot images
    QGroupBox* m_reportBox = nullptr;
    QFormLayout* m_reportForm = nullptr;
    QLabel* m_release = nullptr;
    QLabel* m_target = nullptr;
    QLabel* m_dates = nullptr;
    QLabel* m_payloads = nullptr;
    QLabel* m_signers = nullptr;
    QLabel* m_verdict = nullptr;
    QCheckBox* m_reboot = nullptr;
    QCheckBox* m_commit = nullptr;
    QLabel* m_phase = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_result = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_cancel = nullptr;
};

}  // namespace otafleet::ui
