// The Security menu's views for `otafleet --render-views DIR` (see ViewRenderer): audit.png (the
// audit log after a verification), users.png (what the Users tab shows for this fleet) and
// notifications.png (the notice bar over the notification log, with two sample notifications:
// a sample fleet has nobody to report anything live).
#pragma once

#include "common/Error.h"

#include <QString>
#include <QStringList>

namespace otafleet::ui {
class MainWindow;
}

namespace otafleet::app {

// Errors: render.view (the window has no Security panels), render.write.
[[nodiscard]] Status renderAdministration(ui::MainWindow& window, const QString& directory);

}  // namespace otafleet::app
