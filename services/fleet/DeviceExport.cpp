#include "fleet/DeviceExport.h"

#include "common/AtomicFile.h"
#include "common/Csv.h"
#include "fleet/FleetSummary.h"

namespace otafleet::fleet {

namespace {

QStringList deviceRow(const FleetDevice& d, const QDateTime& now) {
    const link::DeviceSnapshot* s = d.snapshot ? &*d.snapshot : nullptr;
    QString other;
    if (s != nullptr) {
        for (const link::SlotSnapshot& slot : s->slots) {
            if (slot.name != s->activeSlot)
                other = slot.version;
        }
    }
    return {d.displayName(),
            d.uri,
            s != nullptr ? s->deviceId : QString(),
            s != nullptr ? s->model : QString(),
            s != nullptr ? s->hardware : QString(),
            s != nullptr ? s->activeVersion() : QString(),
            other,
            s != nullptr ? s->activeSlot : QString(),
            s != nullptr ? s->state : QString(),
            isOnline(d, now) ? QStringLiteral("yes") : QStringLiteral("no"),
            d.lastSeen.isValid() ? d.lastSeen.toUTC().toString(Qt::ISODate) : QString(),
            d.lastError ? d.lastError->code : QString()};
}

QStringList deviceRow(const DeviceRow& d) {
    return {d.displayName(),
            QStringLiteral("otafleetd:") + d.key,
            d.key,
            d.model,
            d.hardware,
            d.version,
            QString(),
            QString(),
            d.decommissioned ? QStringLiteral("decommissioned") : QString(),
            d.online ? QStringLiteral("yes") : QStringLiteral("no"),
            d.lastSeen.isValid() ? d.lastSeen.toUTC().toString(Qt::ISODate) : QString(),
            QString()};
}

}  // namespace

QStringList deviceCsvHeader() {
    return {QStringLiteral("name"),          QStringLiteral("address"),
            QStringLiteral("device_id"),     QStringLiteral("model"),
            QStringLiteral("hardware"),      QStringLiteral("version"),
            QStringLiteral("other_version"), QStringLiteral("active_slot"),
            QStringLiteral("state"),         QStringLiteral("online"),
            QStringLiteral("last_seen"),     QStringLiteral("last_error")};
}

QByteArray devicesCsv(const QList<FleetDevice>& devices, const QDateTime& now) {
    QList<QStringList> rows;
    rows.reserve(devices.size());
    for (const FleetDevice& d : devices)
        rows.append(deviceRow(d, now));
    return csvDocument(deviceCsvHeader(), rows);
}

Status writeDevicesCsv(const QString& path, const QList<FleetDevice>& devices,
                       const QDateTime& now) {
    return writeFileAtomically(path, devicesCsv(devices, now));
}

Status writeDevicePagesCsv(const QString& path, DevicePageSource& source, DevicePageRequest request,
                           const std::atomic<bool>& stop) {
    QList<QStringList> rows;
    request.pageSize = DevicePageRequest::kMaxPageSize;
    for (request.page = 0;; ++request.page) {
        if (stop.load()) {
            return fail(QStringLiteral("fleet.cancelled"),
                        QStringLiteral("The export was cancelled; no file was written."));
        }
        const Result<DeviceRowPage> page = source.fetch(request).result();
        if (!page)
            return fail(page.error());
        for (const DeviceRow& d : page->rows)
            rows.append(deviceRow(d));
        if (page->rows.isEmpty() || rows.size() >= page->total)
            break;
    }
    return writeFileAtomically(path, csvDocument(deviceCsvHeader(), rows));
}

}  // namespace otafleet::fleet
