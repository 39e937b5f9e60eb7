#include "fleet/DeviceQuery.h"

#include "common/SemVer.h"
#include "fleet/FleetSummary.h"
#include "rollout/DeviceFilter.h"

namespace otafleet::fleet {

struct DeviceQuery::Impl {
    rollout::DeviceFilter filter;
};

namespace {

QString quoted(const QString& value) {
    QString escaped = value;
    escaped.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    escaped.replace(QLatin1Char('"'), QLatin1String("\\\""));
    return QLatin1Char('"') + escaped + QLatin1Char('"');
}

}  // namespace

DeviceQuery::DeviceQuery() : m_impl(std::make_unique<Impl>()) {}
DeviceQuery::~DeviceQuery() = default;
DeviceQuery::DeviceQuery(const DeviceQuery& other)
    : m_impl(std::make_unique<Impl>(*other.m_impl)) {}
DeviceQuery& DeviceQuery::operator=(const DeviceQuery& other) {
    if (this != &other)
        m_impl = std::make_unique<Impl>(*other.m_impl);
    return *this;
}
DeviceQuery::DeviceQuery(DeviceQuery&&) noexcept = default;
DeviceQuery& DeviceQuery::operator=(DeviceQuery&&) noexcept = default;

Result<DeviceQuery> DeviceQuery::parse(const QString& expression) {
    auto filter = rollout::DeviceFilter::parse(expression);
    if (!filter)
        return fail(filter.error());
    DeviceQuery query;
    query.m_impl->filter = std::move(*filter);
    return query;
}

bool DeviceQuery::matches(const FleetDevice& device, const QDateTime& now) const {
    if (m_impl->filter.matchesAll())
        return true;
    rollout::DeviceFacts facts;
    facts.id = device.snapshot ? device.snapshot->deviceId : QString();
    facts.name = device.displayName();
    if (device.snapshot) {
        facts.model = device.snapshot->model;
        facts.hardware = device.snapshot->hardware;
        facts.version = device.snapshot->activeVersion();
    }
    facts.online = isOnline(device, now);
    return m_impl->filter.matches(facts);
}

bool DeviceQuery::matchesAll() const {
    return m_impl->filter.matchesAll();
}

QString DeviceQuery::text() const {
    return m_impl->filter.toString();
}

QString DeviceQuery::forVersion(const QString& model, const QString& hardware,
                                const QString& version) {
    QString text =
        QStringLiteral("model = %1 and hardware = %2").arg(quoted(model), quoted(hardware));
    if (SemVer::parse(version))
        text += QStringLiteral(" and version = %1").arg(quoted(version));
    return text;
}

}  // namespace otafleet::fleet
