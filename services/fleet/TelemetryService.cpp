#include "fleet/TelemetryService.h"

namespace otafleet::fleet {

TelemetryService::TelemetryService(QObject* parent) : QObject(parent) {}
TelemetryService::~TelemetryService() = default;

}  // namespace otafleet::fleet
