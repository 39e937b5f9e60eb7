// Finds Bluetooth LE devices offering MCUmgr SMP and adds the chosen one to the fleet: scans for
// a few seconds (the transport's DeviceScanner, which runs on the event loop and never blocks
// it), lists what answered with its name, address and signal, and adds the selected device by
// its ble:/// address. Scan errors (no adapter, adapter off) show with their code and sentence.
#pragma once

#include "fleet/FleetService.h"
#include "link/DeviceDiscovery.h"
#include "ui/ScannedDeviceModel.h"

#include <QDialog>

#include <functional>
#include <memory>

class QLabel;
class QProgressBar;
class QPushButton;
class QTableView;

namespace otafleet::ui {

class BleScanDialog : public QDialog {
    Q_OBJECT
public:
    static constexpr int kDefaultScanMs = 5000;
    // Makes a scanner (the BLE plugin's, or the simulator's in tests). Errors say why none can
    // be had (mcu.ble-unavailable).
    using ScannerFactory = std::function<Result<std::unique_ptr<link::DeviceScanner>>()>;

    BleScanDialog(fleet::FleetService& fleet, ScannerFactory factory, QWidget* parent = nullptr);
    ~BleScanDialog() override;

    void setScanDuration(int milliseconds) { m_scanMs = milliseconds; }
    [[nodiscard]] ScannedDeviceModel* model() const { return m_model; }
    [[nodiscard]] QTableView* view() const { return m_view; }
    [[nodiscard]] bool isScanning() const { return m_scanning; }
    [[nodiscard]] QString statusText() const;
    [[nodiscard]] qint64 addedDeviceId() const { return m_addedId; }

public Q_SLOTS:
    void startScan();
    // Adds the selected device to the fleet and closes; a refusal stays shown in the dialog.
    void addSelected();
    void reject() override;

Q_SIGNALS:
    void scanFinished();

private:
    void onFinished(const std::optional<Error>& error);
    void showStatus(const QString& text, bool isError);
    void updateButtons();

    fleet::FleetService& m_fleet;
    ScannerFactory m_factory;
    std::unique_ptr<link::DeviceScanner> m_scanner;
    int m_scanMs = kDefaultScanMs;
    bool m_scanning = false;
    qint64 m_addedId = 0;

    ScannedDeviceModel* m_model = nullptr;
    QTableView* m_view = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_busy = nullptr;
    QPushButton* m_scan = nullptr;
    QPushButton* m_add = nullptr;
};

}  // namespace otafleet::ui
