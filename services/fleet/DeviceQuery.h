// A device filter expression (the language of rollout::DeviceFilter, see DeviceFilter.h:
// `model = gateway-x1 and version >= 1.2.0`) applied to FleetDevice values, so the console can
// filter its device list without seeing the rollout library. Tags and groups are not known to
// FleetDevice yet: `tag = x` matches no device, `tag != x` every device.
#pragma once

#include "common/Error.h"
#include "fleet/FleetService.h"

#include <QDateTime>
#include <QString>

#include <memory>

namespace otafleet::fleet {

class DeviceQuery {
public:
    DeviceQuery();  // matches every device
    ~DeviceQuery();
    DeviceQuery(const DeviceQuery& other);
    DeviceQuery& operator=(const DeviceQuery& other);
    DeviceQuery(DeviceQuery&&) noexcept;
    DeviceQuery& operator=(DeviceQuery&&) noexcept;

    // Errors (with the column in the message): filter.too-long, filter.too-deep,
    // filter.too-complex, filter.syntax, filter.field, filter.operator, filter.value,
    // filter.version.
    [[nodiscard]] static Result<DeviceQuery> parse(const QString& expression);
    // `online` is judged at `now` as FleetSummary counts it (isOnline()).
    [[nodiscard]] bool matches(const FleetDevice& device, const QDateTime& now) const;
    [[nodiscard]] bool matchesAll() const;
    // The canonical text of the expression; empty for match-all.
    [[nodiscard]] QString text() const;

    // An expression selecting one model, hardware revision and version, values quoted as needed.
    // A version that is not SemVer cannot be compared by the language; then only model and
    // hardware are selected.
    [[nodiscard]] static QString forVersion(const QString& model, const QString& hardware,
                                            const QString& version);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace otafleet::fleet
