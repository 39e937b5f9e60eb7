#include "QtGattLink.h"

#include "smp/SmpBle.h"

#include <QBluetoothDeviceDiscoveryAgent>
#include <QBluetoothLocalDevice>
#include <QBluetoothUuid>
#include <QLoggingCategory>
#include <QLowEnergyController>
#include <QLowEnergyService>

#include <utility>

namespace {

Q_LOGGING_CATEGORY(lcBle, "otafleet.plugin.ble")

QBluetoothUuid smpService() {
    return QBluetoothUuid(QString::fromLatin1(otafleet::smp::kSmpBleServiceUuid));
}

QBluetoothUuid smpCharacteristic() {
    return QBluetoothUuid(QString::fromLatin1(otafleet::smp::kSmpBleCharacteristicUuid));
}

}  // namespace

QtGattLink::QtGattLink(QBluetoothAddress address, QObject* parent)
    : GattLink(parent), m_address(std::move(address)) {
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("ble.connect-timeout"),
             QStringLiteral("Connecting to %1 over Bluetooth LE took longer than %2 s; check that "
                            "the device is in range and not connected to another phone or "
                            "computer.")
                 .arg(m_address.toString())
                 .arg(kBleConnectMs / 1000));
    });
}

QtGattLink::~QtGattLink() {
    teardown();
}

otafleet::Status QtGattLink::checkAdapter(const QString& forWhat) {
    const QList<QBluetoothHostInfo> adapters = QBluetoothLocalDevice::allDevices();
    if (adapters.isEmpty()) {
        return otafleet::fail(
            QStringLiteral("ble.no-adapter"),
            QStringLiteral("This computer has no Bluetooth adapter (or the Bluetooth service, "
                           "bluetoothd, is not running), so %1 cannot be reached over Bluetooth "
                           "LE; plug in a Bluetooth LE adapter and start bluetoothd, or reach the "
                           "device over USB serial or UDP instead.")
                .arg(forWhat));
    }
    const QBluetoothLocalDevice local(adapters.first().address());
    if (local.hostMode() == QBluetoothLocalDevice::HostPoweredOff) {
        return otafleet::fail(QStringLiteral("ble.adapter-off"),
                              QStringLiteral("The Bluetooth adapter %1 is switched off; switch "
                                             "Bluetooth on and run the command again.")
                                  .arg(adapters.first().address().toString()));
    }
    return {};
}

otafleet::Status QtGattLink::connectToDevice() {
    if (m_agent != nullptr || m_controller != nullptr) {
        return {};  // already on its way
    }
    if (otafleet::Status adapter = checkAdapter(m_address.toString()); !adapter) {
        return adapter;
    }
    m_advertisesSmp = false;
    m_deadline.start(kBleConnectMs);
    // Scan first: BlueZ connects reliably only to a device it has seen advertising (random
    // addresses in particular), and the advertisement tells whether it offers SMP.
    m_agent = new QBluetoothDeviceDiscoveryAgent(this);
    m_agent->setLowEnergyDiscoveryTimeout(kBleScanMs);
    connect(m_agent, &QBluetoothDeviceDiscoveryAgent::deviceDiscovered, this,
            &QtGattLink::onDeviceDiscovered);
    connect(m_agent, &QBluetoothDeviceDiscoveryAgent::finished, this, &QtGattLink::onScanFinished);
    connect(m_agent, &QBluetoothDeviceDiscoveryAgent::errorOccurred, this,
            [this](QBluetoothDeviceDiscoveryAgent::Error) {
                fail(QStringLiteral("ble.scan-failed"),
                     QStringLiteral("Scanning for Bluetooth LE devices failed (%1); check that "
                                    "Bluetooth is on and that you may use it.")
                         .arg(m_agent->errorString()));
            });
    m_agent->start(QBluetoothDeviceDiscoveryAgent::LowEnergyMethod);
    return {};
}

void QtGattLink::onDeviceDiscovered(const QBluetoothDeviceInfo& info) {
    if (info.address() != m_address ||
        !(info.coreConfigurations() & QBluetoothDeviceInfo::LowEnergyCoreConfiguration)) {
        return;
    }
    // The SMP UUID may sit in the scan response rather than the advertisement; the GATT lookup
    // below is what decides.
    m_advertisesSmp = info.serviceUuids().contains(smpService());
    qCDebug(lcBle) << "found" << info.address().toString() << info.name()
                   << (m_advertisesSmp ? "advertising SMP" : "not advertising SMP");
    QBluetoothDeviceDiscoveryAgent* agent = std::exchange(m_agent, nullptr);
    agent->disconnect(this);
    agent->stop();
    agent->deleteLater();
    connectController(info);
}

void QtGattLink::onScanFinished() {
    if (m_agent == nullptr) {
        return;
    }
    fail(QStringLiteral("ble.not-found"),
         QStringLiteral("No Bluetooth LE device %1 was seen within %2 s; check that it is on, "
                        "advertising and in range.")
             .arg(m_address.toString())
             .arg(kBleScanMs / 1000));
}

void QtGattLink::connectController(const QBluetoothDeviceInfo& info) {
    m_controller = QLowEnergyController::createCentral(info, this);
    connect(m_controller, &QLowEnergyController::connected, m_controller,
            &QLowEnergyController::discoverServices);
    connect(m_controller, &QLowEnergyController::discoveryFinished, this,
            &QtGattLink::onServicesDiscovered);
    connect(m_controller, &QLowEnergyController::mtuChanged, this, [this](int mtu) {
        m_mtu = mtu;
        Q_EMIT mtuChanged(mtu);
    });
    connect(m_controller, &QLowEnergyController::errorOccurred, this,
            [this](QLowEnergyController::Error) {
                fail(QStringLiteral("ble.connect-failed"),
                     QStringLiteral("Cannot connect to %1 over Bluetooth LE (%2); check that the "
                                    "device is in range and accepts connections.")
                         .arg(m_address.toString(), m_controller->errorString()));
            });
    connect(m_controller, &QLowEnergyController::disconnected, this, [this] {
        fail(QStringLiteral("smp.link-lost"),
             QStringLiteral("The Bluetooth LE connection to %1 was lost; move closer or check "
                            "the device, then run the command again (an upload resumes).")
                 .arg(m_address.toString()));
    });
    m_controller->connectToDevice();
}

void QtGattLink::onServicesDiscovered() {
    m_service = m_controller->createServiceObject(smpService(), this);
    if (m_service == nullptr) {
        fail(
            QStringLiteral("ble.no-smp-service"),
            QStringLiteral("%1 has no MCUmgr SMP service (%2); check that its firmware enables "
                           "the SMP Bluetooth transport.")
                .arg(m_address.toString(), QString::fromLatin1(otafleet::smp::kSmpBleServiceUuid)));
        return;
    }
    connect(m_service, &QLowEnergyService::stateChanged, this, &QtGattLink::onServiceState);
    connect(m_service, &QLowEnergyService::characteristicChanged, this,
            [this](const QLowEnergyCharacteristic& characteristic, const QByteArray& value) {
                if (m_ready && characteristic.uuid() == smpCharacteristic()) {
                    Q_EMIT notified(value);
                }
            });
    connect(
        m_service, &QLowEnergyService::descriptorWritten, this,
        [this](const QLowEnergyDescriptor& descriptor, const QByteArray&) {
            if (m_ready || descriptor.type() !=
                               QBluetoothUuid::DescriptorType::ClientCharacteristicConfiguration) {
                return;
            }
            m_deadline.stop();
            m_ready = true;
            m_mtu = m_controller->mtu();
            Q_EMIT ready();
        });
    connect(m_service, &QLowEnergyService::errorOccurred, this,
            [this](QLowEnergyService::ServiceError error) {
                const bool notify = error == QLowEnergyService::DescriptorWriteError;
                fail(notify ? QStringLiteral("ble.notify-failed")
                            : QStringLiteral("ble.connect-failed"),
                     QStringLiteral("The SMP service of %1 failed (%2 error %3); reset the device "
                                    "and run the command again.")
                         .arg(m_address.toString(),
                              notify ? QStringLiteral("notification") : QStringLiteral("GATT"))
                         .arg(int(error)));
            });
    m_service->discoverDetails();
}

void QtGattLink::onServiceState() {
    if (m_service->state() != QLowEnergyService::RemoteServiceDiscovered || m_ready) {
        return;
    }
    m_characteristic = m_service->characteristic(smpCharacteristic());
    const auto properties = m_characteristic.properties();
    const QLowEnergyDescriptor cccd = m_characteristic.clientCharacteristicConfiguration();
    if (!m_characteristic.isValid() || !(properties & QLowEnergyCharacteristic::WriteNoResponse) ||
        !(properties & QLowEnergyCharacteristic::Notify) || !cccd.isValid()) {
        fail(QStringLiteral("ble.no-smp-service"),
             QStringLiteral("The SMP service of %1 lacks the characteristic %2 with write "
                            "without response and notifications; check the device's firmware.")
                 .arg(m_address.toString(),
                      QString::fromLatin1(otafleet::smp::kSmpBleCharacteristicUuid)));
        return;
    }
    m_service->writeDescriptor(cccd, QLowEnergyCharacteristic::CCCDEnableNotification);
}

void QtGattLink::writeWithoutResponse(const QByteArray& value) {
    if (!m_ready || m_service == nullptr) {
        return;
    }
    m_service->writeCharacteristic(m_characteristic, value,
                                   QLowEnergyService::WriteWithoutResponse);
}

QString QtGattLink::description() const {
    return QStringLiteral("Bluetooth LE %1 (ATT MTU %2)").arg(m_address.toString()).arg(m_mtu);
}

void QtGattLink::fail(const QString& code, const QString& message) {
    if (m_agent == nullptr && m_controller == nullptr) {
        return;  // already failed or closed: report once
    }
    qCWarning(lcBle) << code << message;
    teardown();
    // Reported on the next turn: the Qt Bluetooth object that called us is gone by then.
    QMetaObject::invokeMethod(
        this, [this, error = otafleet::Error{code, message}] { Q_EMIT failed(error); },
        Qt::QueuedConnection);
}

void QtGattLink::disconnectFromDevice() {
    teardown();
}

void QtGattLink::teardown() {
    m_deadline.stop();
    m_ready = false;
    m_mtu = otafleet::smp::kBleDefaultMtu;
    if (m_agent != nullptr) {
        m_agent->disconnect(this);
        m_agent->stop();
        std::exchange(m_agent, nullptr)->deleteLater();
    }
    if (m_service != nullptr) {
        m_service->disconnect(this);
        std::exchange(m_service, nullptr)->deleteLater();
    }
    if (m_controller != nullptr) {
        m_controller->disconnect(this);
        m_controller->disconnectFromDevice();
        std::exchange(m_controller, nullptr)->deleteLater();
    }
}
