// Fuzz target: what otafleetd decodes from the network and its configuration. The first byte
// picks a ConsoleService or DeviceService request type (or otafleetd.conf); the rest is decoded
// as that message and run through the server's checks (server/RequestCheck.h); a rollout's plan
// options go on through RolloutPlan::fromOptions, an agent's offer id through parseOfferId. Nothing
// may crash or read past the input, and what the checks accept must be within the documented
// bounds.
#include "server/FleetTelemetry.h"
#include "server/RequestCheck.h"
#include "server/RolloutDriver.h"
#include "server/ServerConfig.h"

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

namespace {

using namespace otafleet::server;
namespace cpb = otafleet::console::v1;
namespace dpb = otafleet::device::v1;

template <class Message>
bool decode(Message& m, const std::uint8_t* data, std::size_t size) {
    return m.ParseFromArray(data, static_cast<int>(size));
}

void require(bool condition) {
    if (!condition)
        __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::uint8_t selector = data[0] % 20;
    ++data;
    --size;
    switch (selector) {
        case 0: {
            cpb::LoginRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(!m.user().empty() && m.user().size() <= 64 && !m.password().empty());
            break;
        }
        case 1: {
            cpb::AddUserRequest m;
            if (decode(m, data, size)) {
                if (auto role = checkRequest(m))
                    require(m.role() >= cpb::ROLE_VIEWER && m.role() <= cpb::ROLE_ADMIN &&
                            m.password().size() >= 8);
            }
            break;
        }
        case 2: {
            cpb::SetUserRoleRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(m.role() >= cpb::ROLE_VIEWER && m.role() <= cpb::ROLE_ADMIN);
            break;
        }
        case 3: {
            cpb::DisableUserRequest m;
            if (decode(m, data, size))
                (void)checkRequest(m);
            break;
        }
        case 4: {
            cpb::ListAuditRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(m.after_id() >= 0 && m.page_size() >= 1 && m.page_size() <= 1000);
            break;
        }
        case 5: {
            cpb::ListDevicesRequest m;
            if (decode(m, data, size)) {
                if (auto paging = checkRequest(m))
                    require(paging->pageSize >= 1 && paging->pageSize <= kMaxPageSize &&
                            paging->page >= 0 && m.filter().size() <= size_t(kMaxFilterLength));
            }
            break;
        }
        case 6: {
            cpb::TagDeviceRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(!m.tag().empty() && m.tag().size() <= 64);
            break;
        }
        case 7: {
            cpb::SetDeviceGroupRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(m.group().size() <= 64 && !m.device_id().empty());
            break;
        }
        case 8: {
            cpb::DecommissionDeviceRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(m.reason().size() <= size_t(kMaxReasonLength));
            break;
        }
        case 9: {
            cpb::RevokeReleaseRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(m.id().size() == 64);
            break;
        }
        case 10: {
            cpb::ReleaseChunk m;
            constexpr qint64 kMax = 1024 * 1024;
            if (decode(m, data, size) && checkUploadHeader(m, kMax))
                require(m.header().total_size() >= 1 && m.header().total_size() <= kMax);
            break;
        }
        case 11: {
            dpb::Inventory m;
            if (decode(m, data, size) && checkRequest(m))
                require(m.slots_size() <= 8 && m.model().size() <= 128);
            break;
        }
        case 12: {
            dpb::DownloadRequest m;
            if (decode(m, data, size))
                (void)checkRequest(m);
            break;
        }
        case 14: {
            cpb::CreateRolloutRequest m;
            if (decode(m, data, size)) {
                if (auto options = checkRequest(m)) {
                    require(m.release_id().size() == 64 &&
                            m.target().size() <= size_t(kMaxFilterLength) &&
                            options->waves.size() <= kMaxPlanOptionLength);
                    if (auto plan = otafleet::rollout::RolloutPlan::fromOptions(*options))
                        require(!plan->waves.isEmpty());
                }
            }
            break;
        }
        case 15: {
            cpb::RolloutRequest m;
            if (decode(m, data, size) && checkRequest(m))
                require(m.id() >= 1 && m.id() <= kMaxRolloutId);
            break;
        }
        case 16: {
            cpb::ListRolloutsRequest m;
            if (decode(m, data, size)) {
                if (auto paging = checkRequest(m))
                    require(paging->pageSize >= 1 && paging->pageSize <= kMaxPageSize);
            }
            break;
        }
        case 17: {
            dpb::Progress m;
            if (decode(m, data, size)) {
                if (auto event = checkRequest(m)) {
                    require(event->kind != otafleet::rollout::DeviceState::Pending &&
                            !m.offer_id().empty() &&
                            m.offer_id().size() <= size_t(kMaxOfferIdLength));
                    if (auto offer = parseOfferId(QString::fromStdString(m.offer_id())))
                        require(offer->rollout >= 1 && offer->attempt >= 1 &&
                                !offer->device.isEmpty());
                }
            }
            break;
        }
        case 18: {
            cpb::TelemetryReportRequest m;
            if (decode(m, data, size)) {
                const QDateTime now = QDateTime::fromMSecsSinceEpoch(1767225600000, Qt::UTC);
                if (auto q = telemetryQuery(m, now))
                    require(q->since < q->until &&
                            q->since.msecsTo(q->until) <= kMaxTelemetryRangeMs &&
                            q->model.size() <= 128);
            }
            break;
        }
        case 19: {
            dpb::TelemetryEvent m;
            const TelemetryOrigin origin{QStringLiteral("dev-1"), QStringLiteral("gw-x1"),
                                         QStringLiteral("rev-a"), QStringLiteral("1.0.0")};
            if (decode(m, data, size)) {
                if (auto r = telemetryRecord(origin, m))
                    require(r->seq > 0 && r->time.isValid() && !r->event.isEmpty() &&
                            r->deviceId == origin.deviceId);
            }
            break;
        }
        default: {  // 13
            const QByteArrayView text(data, static_cast<qsizetype>(size));
            if (auto config = ServerConfig::parse(text, QStringLiteral("/srv/otafleetd")))
                require(!config->listen.isEmpty() && config->maxMessageSize >= 64 * 1024);
            break;
        }
    }
    return 0;
}
