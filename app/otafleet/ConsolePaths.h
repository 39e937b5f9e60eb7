// Where the console finds its parts: transport plugins and the otafleet-agent used by --demo,
// for an installed console and for one run from the build tree.
#pragma once

#include <QString>
#include <QStringList>

namespace otafleet::app {

// Existing directories, in order: $OTAFLEET_PLUGIN_DIR, the installed location next to the
// binary (../lib/otafleet/plugins), the build tree's plugins/ (binary dir/../plugins).
[[nodiscard]] QStringList pluginDirectories();
// otafleet-agent next to the console, else on PATH; empty if none.
[[nodiscard]] QString agentProgram();

}  // namespace otafleet::app
