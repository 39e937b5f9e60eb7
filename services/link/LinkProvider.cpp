#include "link/LinkProvider.h"

namespace otafleet::link {

LinkProvider::LinkProvider(QObject* parent) : QObject(parent) {}
LinkProvider::~LinkProvider() = default;
LinkPlugin::~LinkPlugin() = default;

}  // namespace otafleet::link
