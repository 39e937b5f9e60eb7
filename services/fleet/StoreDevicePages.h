// Pages of the devices in a fleet store file (store::FleetDeviceRepository, the fleet_devices
// table otafleetd keeps and a console can open), read on a thread of this object's own that
// holds its own connection to the file (SQLite in WAL mode: it reads while another process
// writes). Filtering, sorting and paging are otafleetd's own (fleet::DevicePager), so a page
// reads the same here as through ListDevices.
//
// Requests run one at a time in the order they came; one cancelled before it started is
// skipped, so a view that scrolled on costs nothing for the pages it no longer wants.
#pragma once

#include "fleet/DevicePages.h"

#include <QThreadPool>

#include <memory>

namespace otafleet::fleet {

class StoreDevicePages final : public DevicePageSource {
public:
    static constexpr int kBulkBatch = 500;  // devices per transaction in apply()

    // `path`: a store file (or postgresql:// URL), opened on first use. Errors come with the
    // first request (store.open-failed, ...).
    explicit StoreDevicePages(QString path);
    ~StoreDevicePages() override;  // finishes the request running now, drops queued ones
    StoreDevicePages(const StoreDevicePages&) = delete;
    StoreDevicePages& operator=(const StoreDevicePages&) = delete;

    [[nodiscard]] QFuture<Result<DeviceRowPage>> fetch(const DevicePageRequest& request) override;
    [[nodiscard]] QFuture<Result<BulkOutcome>> apply(const BulkRequest& request) override;

    struct Worker;

private:
    std::shared_ptr<Worker> m_worker;  // used on m_pool's one thread only
    QThreadPool m_pool;
};

}  // namespace otafleet::fleet
