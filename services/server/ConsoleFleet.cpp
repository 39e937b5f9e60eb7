// ConsoleService: the fleet's devices (list, summary, tags, groups, decommissioning).
#include "server/ConsoleService.h"
#include "server/FleetDeviceSql.h"

#include "server/RequestCheck.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace otafleet::server {
namespace {

using store::FleetDeviceRecord;
using store::FleetStore;

std::string str(const QString& s) {
    return s.toStdString();
}

QString deviceSubject(const std::string& id) {
    return QStringLiteral("device:%1").arg(QString::fromStdString(id.substr(0, 128)));
}

void fillDevice(const FleetDeviceRecord& d, cpb::FleetDevice* out) {
    out->set_device_id(str(d.deviceId));
    out->set_name(str(d.name));
    out->set_model(str(d.model));
    out->set_hardware(str(d.hardware));
    out->set_serial(str(d.serial));
    out->set_version(str(d.version));
    out->set_agent_version(str(d.agentVersion));
    out->set_health_ok(d.healthOk);
    const QJsonArray slots = QJsonDocument::fromJson(d.slotsJson).array();
    for (const auto& v : slots) {
        const QJsonObject o = v.toObject();
        cpb::SlotInventory* slot = out->add_slots();
        slot->set_name(str(o.value(QLatin1String("name")).toString()));
        slot->set_state(str(o.value(QLatin1String("state")).toString()));
        slot->set_version(str(o.value(QLatin1String("version")).toString()));
        slot->set_security_version(
            static_cast<quint64>(o.value(QLatin1String("security_version")).toDouble()));
    }
    for (const QString& tag : d.tags)
        out->add_tags(str(tag));
    out->set_group(str(d.group));
    out->set_online(d.online);
    out->set_first_seen_unix_ms(d.firstSeen.toMSecsSinceEpoch());
    out->set_last_seen_unix_ms(d.lastSeen.toMSecsSinceEpoch());
    out->set_decommissioned(d.decommissioned);
}

}  // namespace

grpc::ServerUnaryReactor* ConsoleService::ListDevices(grpc::CallbackServerContext* c,
                                                      const cpb::ListDevicesRequest* r,
                                                      cpb::DevicePage* reply) {
    auto caller = authorize(c, Action::FleetDevices, QStringLiteral("fleet"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto paging = checkRequest(*r);
    if (!paging)
        return finishUnary(c, fail(paging.error()));
    auto sort = fleet::sortKeyNamed(QString::fromStdString(r->sort().substr(0, 64)));
    if (!sort)
        return finishUnary(c, fail(sort.error()));
    fleet::DevicePageRequest request;
    request.filter = QString::fromStdString(r->filter());
    request.text = QString::fromStdString(r->text());
    request.sort = *sort;
    request.descending = r->descending();
    request.page = int(paging->page);
    request.pageSize = int(paging->pageSize);
    // The database selects and orders (fleet::DevicePager); where the filter tests what SQL
    // cannot (tags, SemVer order) it selects a superset, matched once and then paged by key.
    auto page = m_store.run([&](FleetStore& s) -> Result<store::FleetDevicePage> {
        return m_pager->page(s.fleetDevices(), request);
    });
    if (!page)
        return finishUnary(c, fail(page.error()));
    for (const FleetDeviceRecord& d : page->devices)
        fillDevice(d, reply->add_devices());
    reply->set_page(r->page());
    reply->set_page_size(r->page_size());
    reply->set_total(static_cast<quint64>(page->total));
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::FleetSummary(grpc::CallbackServerContext* c,
                                                       const cpb::FleetSummaryRequest*,
                                                       cpb::FleetSummaryReply* reply) {
    auto caller = authorize(c, Action::FleetSummary, QStringLiteral("fleet"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto summary = m_store.run([](FleetStore& s) { return s.fleetDevices().summary(); });
    if (!summary)
        return finishUnary(c, fail(summary.error()));
    reply->set_devices(quint64(summary->devices));
    reply->set_online(quint64(summary->online));
    reply->set_offline(quint64(summary->devices - summary->online));
    reply->set_decommissioned(quint64(summary->decommissioned));
    for (const store::VersionCount& v : summary->versions) {
        cpb::VersionCount* out = reply->add_versions();
        out->set_model(str(v.model));
        out->set_hardware(str(v.hardware));
        out->set_version(str(v.version));
        out->set_devices(quint64(v.devices));
        out->set_online(quint64(v.online));
    }
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::TagDevice(grpc::CallbackServerContext* c,
                                                    const cpb::TagDeviceRequest* r,
                                                    cpb::FleetDevice* reply) {
    auto caller = authorize(c, Action::FleetTag, deviceSubject(r->device_id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString id = QString::fromStdString(r->device_id());
    const QString tag = QString::fromStdString(r->tag());
    auto device = m_store.run([&](FleetStore& s) -> Result<FleetDeviceRecord> {
        m_pager->forget();
        if (auto ok = s.fleetDevices().addTag(id, tag); !ok)
            return fail(ok.error());
        return s.fleetDevices().get(id);
    });
    if (!device)
        return finishUnary(c, fail(device.error()));
    fillDevice(*device, reply);
    return finishUnary(
        c, audit(caller->name, deviceSubject(r->device_id()), QStringLiteral("fleet.tag"), tag));
}

grpc::ServerUnaryReactor* ConsoleService::UntagDevice(grpc::CallbackServerContext* c,
                                                      const cpb::TagDeviceRequest* r,
                                                      cpb::FleetDevice* reply) {
    auto caller = authorize(c, Action::FleetUntag, deviceSubject(r->device_id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString id = QString::fromStdString(r->device_id());
    const QString tag = QString::fromStdString(r->tag());
    auto device = m_store.run([&](FleetStore& s) -> Result<FleetDeviceRecord> {
        m_pager->forget();
        if (auto ok = s.fleetDevices().removeTag(id, tag); !ok)
            return fail(ok.error());
        return s.fleetDevices().get(id);
    });
    if (!device)
        return finishUnary(c, fail(device.error()));
    fillDevice(*device, reply);
    return finishUnary(
        c, audit(caller->name, deviceSubject(r->device_id()), QStringLiteral("fleet.untag"), tag));
}

grpc::ServerUnaryReactor* ConsoleService::SetDeviceGroup(grpc::CallbackServerContext* c,
                                                         const cpb::SetDeviceGroupRequest* r,
                                                         cpb::FleetDevice* reply) {
    auto caller = authorize(c, Action::FleetGroup, deviceSubject(r->device_id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString id = QString::fromStdString(r->device_id());
    const QString group = QString::fromStdString(r->group());
    auto device = m_store.run([&](FleetStore& s) -> Result<FleetDeviceRecord> {
        m_pager->forget();
        if (auto ok = s.fleetDevices().setGroup(id, group); !ok)
            return fail(ok.error());
        return s.fleetDevices().get(id);
    });
    if (!device)
        return finishUnary(c, fail(device.error()));
    fillDevice(*device, reply);
    return finishUnary(c, audit(caller->name, deviceSubject(r->device_id()),
                                QStringLiteral("fleet.group"), group));
}

grpc::ServerUnaryReactor* ConsoleService::DecommissionDevice(
    grpc::CallbackServerContext* c, const cpb::DecommissionDeviceRequest* r,
    cpb::FleetDevice* reply) {
    auto caller = authorize(c, Action::FleetDecommission, deviceSubject(r->device_id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString id = QString::fromStdString(r->device_id());
    // The server refuses a decommissioned device's sessions from now on (DeviceService).
    // Revoking its certificate in the PKI needs the device CA's key, which otafleetd does not
    // hold: that is `otafleetctl pki revoke` on the PKI's machine.
    auto device = m_store.run([&](FleetStore& s) -> Result<FleetDeviceRecord> {
        if (auto ok = s.fleetDevices().decommission(id); !ok)
            return fail(ok.error());
        return s.fleetDevices().get(id);
    });
    if (!device)
        return finishUnary(c, fail(device.error()));
    fillDevice(*device, reply);
    return finishUnary(
        c, audit(caller->name, deviceSubject(r->device_id()), QStringLiteral("fleet.decommission"),
                 QString::fromStdString(r->reason())));
}

}  // namespace otafleet::server
