// An MCU-class device (MCUboot/Zephyr, MCUmgr SMP) behind the transport-neutral DeviceLink, so
// the console and DeviceHub treat it like any other device: refresh reads the image slots;
// update uploads an MCUboot image and (options) marks it for test, resets, waits for the device
// and confirms; commit confirms the running image; rollback makes the other slot's image
// permanent and resets; reboot resets and waits. Every step is asynchronous on the SmpClient.
// The image is checked by the device (MCUboot's rules); the console checks it against the
// release key before it offers the file.
#pragma once

#include "link/DeviceLink.h"
#include "smp/SmpClient.h"

#include <QElapsedTimer>

#include <functional>
#include <memory>

namespace otafleet::smp {

class ImageUploader;

class SmpDeviceLink : public link::DeviceLink {
    Q_OBJECT

public:
    SmpDeviceLink(QString uri, std::unique_ptr<SmpTransport> transport, QObject* parent = nullptr);
    ~SmpDeviceLink() override;

    // The snapshot of an image state answer: slots "primary" and "secondary".
    [[nodiscard]] static link::DeviceSnapshot toSnapshot(const QString& uri,
                                                         const QList<image::SlotState>& slots);

protected:
    void startRefresh() override;
    void startUpdate(const QString& imagePath, const link::UpdateOptions& options) override;
    void startCommit() override;
    void startRollback() override;
    void startReboot() override;
    void requestCancel() override;

private:
    using Next = std::function<void()>;
    [[nodiscard]] bool ensureOpen();
    // Reads the slots and completes the operation with them.
    void finishWithState();
    void fail(const Error& error);
    // Runs `request`; on a device or link error completes with it, else calls `then`.
    void step(const Request& request, std::function<void(const QCborMap&)> then);
    void resetAndWait(Next then);
    void pollUntilBack(Next then);

    std::unique_ptr<SmpTransport> m_transport;
    std::unique_ptr<SmpClient> m_client;
    std::unique_ptr<ImageUploader> m_uploader;
    QElapsedTimer m_resetClock;
    bool m_open = false;
    bool m_cancelled = false;
};

}  // namespace otafleet::smp
