#include "fleet/DevicePages.h"

#include "fleet/DeviceQuery.h"

namespace otafleet::fleet {

DevicePageSource::~DevicePageSource() = default;

std::optional<QString> DevicePageSource::bulkBlocker(BulkAction action) const {
    Q_UNUSED(action);
    return std::nullopt;
}

QString bulkActionName(BulkAction action) {
    switch (action) {
        case BulkAction::Tag:
            return QStringLiteral("tag");
        case BulkAction::Untag:
            return QStringLiteral("untag");
        case BulkAction::Group:
            return QStringLiteral("group");
        case BulkAction::Decommission:
            return QStringLiteral("decommission");
    }
    return QString();
}

Status checkBulkRequest(const BulkRequest& request) {
    if (request.keys.isEmpty()) {
        return fail(QStringLiteral("fleet.bulk-empty"),
                    QStringLiteral("No devices are selected; select the devices to change."));
    }
    if (request.keys.size() > BulkRequest::kMaxDevices) {
        return fail(QStringLiteral("fleet.bulk-too-many"),
                    QStringLiteral("%1 devices are selected; change at most %2 at a time, or "
                                   "narrow the filter.")
                        .arg(request.keys.size())
                        .arg(BulkRequest::kMaxDevices));
    }
    const bool needsValue =
        request.action == BulkAction::Tag || request.action == BulkAction::Untag;
    const QString value = request.value.trimmed();
    if ((needsValue && value.isEmpty()) || value.size() > BulkRequest::kMaxValueLength ||
        value != request.value) {
        return fail(QStringLiteral("fleet.bulk-value"),
                    QStringLiteral("A %1 must be 1 to %2 characters without leading or trailing "
                                   "spaces.")
                        .arg(request.action == BulkAction::Group ? QStringLiteral("group name")
                                                                 : QStringLiteral("tag"))
                        .arg(BulkRequest::kMaxValueLength));
    }
    return {};
}

Status checkPageRequest(const DevicePageRequest& request) {
    if (request.text.size() > DevicePageRequest::kMaxTextLength) {
        return fail(QStringLiteral("filter.too-long"),
                    QStringLiteral("The search text has %1 characters; use at most %2.")
                        .arg(request.text.size())
                        .arg(DevicePageRequest::kMaxTextLength));
    }
    if (auto parsed = DeviceQuery::parse(request.filter); !parsed)
        return fail(parsed.error());
    return {};
}

}  // namespace otafleet::fleet
