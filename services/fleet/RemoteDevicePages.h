// Pages of otafleetd's devices read through ConsoleService.ListDevices (filter, free text and
// order done by the server's database, fleet::DevicePager there), and bulk changes through
// TagDevice, UntagDevice, SetDeviceGroup and DecommissionDevice, one device per call, each
// audited by the server. Calls run on a thread of this object's own with a connection of its own
// (signed in like RemoteFleet's), so a long scan never waits behind the fleet mirror's poll and
// the GUI thread never waits at all. A lost server is reconnected at the next request.
#pragma once

#include "consoleclient/ConsoleSettings.h"
#include "fleet/DevicePages.h"

#include <QThreadPool>

#include <functional>
#include <memory>

namespace otafleet::fleet {

class RemoteDevicePages final : public DevicePageSource {
public:
    // `role` tells the signed-in user's role ("viewer", ...; empty until known) and name, for
    // bulkBlocker().
    using RoleProvider = std::function<std::pair<QString, QString>()>;

    RemoteDevicePages(client::ConsoleSettings settings, RoleProvider role);
    ~RemoteDevicePages() override;  // stops after the call running now, drops queued ones
    RemoteDevicePages(const RemoteDevicePages&) = delete;
    RemoteDevicePages& operator=(const RemoteDevicePages&) = delete;

    [[nodiscard]] QFuture<Result<DeviceRowPage>> fetch(const DevicePageRequest& request) override;
    [[nodiscard]] QFuture<Result<BulkOutcome>> apply(const BulkRequest& request) override;
    [[nodiscard]] std::optional<QString> bulkBlocker(BulkAction action) const override;

    // The roles otafleetd lets run `action` (server/Rbac.cpp).
    [[nodiscard]] static QStringList rolesAllowed(BulkAction action);

    struct Worker;

private:
    std::shared_ptr<Worker> m_worker;  // used on m_pool's one thread only
    RoleProvider m_role;
    QThreadPool m_pool;
};

}  // namespace otafleet::fleet
