#include "QtBleScanner.h"

#include "QtGattLink.h"
#include "smp/SmpBle.h"

#include <QBluetoothDeviceDiscoveryAgent>
#include <QBluetoothDeviceInfo>
#include <QBluetoothUuid>

#include <utility>

QtBleScanner::~QtBleScanner() {
    stop();
}

otafleet::Status QtBleScanner::start(int milliseconds) {
    if (m_agent != nullptr) {
        return {};
    }
    if (otafleet::Status adapter = QtGattLink::checkAdapter(QStringLiteral("devices offering SMP"));
        !adapter) {
        return adapter;
    }
    m_reported.clear();
    m_agent = new QBluetoothDeviceDiscoveryAgent(this);
    m_agent->setLowEnergyDiscoveryTimeout(milliseconds);
    connect(m_agent, &QBluetoothDeviceDiscoveryAgent::deviceDiscovered, this,
            &QtBleScanner::onDevice);
    // An advertisement seen again may carry the service list the first one lacked.
    connect(m_agent, &QBluetoothDeviceDiscoveryAgent::deviceUpdated, this,
            [this](const QBluetoothDeviceInfo& info) { onDevice(info); });
    connect(m_agent, &QBluetoothDeviceDiscoveryAgent::finished, this,
            [this] { end(std::nullopt); });
    connect(m_agent, &QBluetoothDeviceDiscoveryAgent::errorOccurred, this,
            [this](QBluetoothDeviceDiscoveryAgent::Error) {
                end(otafleet::Error{
                    QStringLiteral("ble.scan-failed"),
                    QStringLiteral("Scanning for Bluetooth LE devices failed (%1); check that "
                                   "Bluetooth is on and that you may use it.")
                        .arg(m_agent->errorString())});
            });
    m_agent->start(QBluetoothDeviceDiscoveryAgent::LowEnergyMethod);
    return {};
}

void QtBleScanner::onDevice(const QBluetoothDeviceInfo& info) {
    static const QBluetoothUuid smp(QString::fromLatin1(otafleet::smp::kSmpBleServiceUuid));
    const QString address = info.address().toString();
    if (!(info.coreConfigurations() & QBluetoothDeviceInfo::LowEnergyCoreConfiguration) ||
        !info.serviceUuids().contains(smp) || m_reported.contains(address)) {
        return;
    }
    m_reported.insert(address);
    Q_EMIT found(otafleet::link::ScannedDevice{address, info.name(), int(info.rssi()),
                                               QStringLiteral("ble:///") + address});
}

void QtBleScanner::end(const std::optional<otafleet::Error>& error) {
    if (m_agent == nullptr) {
        return;
    }
    m_agent->disconnect(this);
    m_agent->stop();
    std::exchange(m_agent, nullptr)->deleteLater();
    Q_EMIT finished(error);
}

void QtBleScanner::stop() {
    if (m_agent != nullptr) {
        m_agent->disconnect(this);
        m_agent->stop();
        std::exchange(m_agent, nullptr)->deleteLater();
    }
}
