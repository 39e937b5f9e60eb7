// The console's factory Station view: the run's settings (ports pattern, image, release key or
// PKI, identity provisioning, operator, station id, database) with Start and Stop, a tile per
// port showing its unit's serial number, stage, upload progress and result (a failed tile names
// the reason), and the run's summary line. It knows no station code: it shows any item model
// that offers the roles "port", "serialNumber", "stage", "progress", "result" and "reason"
// (services/station/StationTileModel), and asks for runs through startRequested(); the console's
// app/ layer joins the two (ui/ sees only fleet/ and link/).
#pragma once

#include <QString>
#include <QWidget>

class QAbstractItemModel;
class QCheckBox;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QSpinBox;

namespace otafleet::ui {

struct StationViewRequest {
    QString ports;
    QString image;
    QString releaseKey;  // PEM; empty: the PKI's release signer
    QString pki;
    bool provisionIdentity = false;
    QString operatorName;
    QString stationId;
    QString database;
    int units = 0;  // 0: until stopped
};

class StationView : public QWidget {
    Q_OBJECT
public:
    explicit StationView(QAbstractItemModel* tiles, QWidget* parent = nullptr);

    [[nodiscard]] StationViewRequest request() const;
    void setRequest(const StationViewRequest& request);
    // Running: the settings are locked and Stop is offered.
    void setRunning(bool running);
    void setSummary(const QString& text);
    void showError(const QString& text);

    [[nodiscard]] QListView* tiles() const { return m_tiles; }
    [[nodiscard]] QPushButton* startButton() const { return m_start; }
    [[nodiscard]] QPushButton* stopButton() const { return m_stop; }
    [[nodiscard]] QLabel* summaryLabel() const { return m_summary; }

Q_SIGNALS:
    void startRequested(const otafleet::ui::StationViewRequest& request);
    void stopRequested();

private:
    QLineEdit* m_ports = nullptr;
    QLineEdit* m_image = nullptr;
    QLineEdit* m_key = nullptr;
    QLineEdit* m_pki = nullptr;
    QCheckBox* m_provision = nullptr;
    QLineEdit* m_operator = nullptr;
    QLineEdit* m_stationId = nullptr;
    QLineEdit* m_database = nullptr;
    QSpinBox* m_units = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_stop = nullptr;
    QListView* m_tiles = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_error = nullptr;
    QList<QWidget*> m_settings;
};

}  // namespace otafleet::ui
