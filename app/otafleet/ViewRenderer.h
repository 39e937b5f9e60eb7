// `otafleet --render-views DIR`: draws every main view of a running console to a PNG file with
// QWidget::grab, for the README and for tests/gui/render_views.sh (run by ctest under Xvfb).
// The views are driven as a person would (tabs, selections, the wizard's fields) and the event
// loop runs between steps, so what is saved is what a user sees, asynchronous parts included.
//   devices.png, dashboard.png, rollouts.png, rollout-monitor.png, approvals.png,
//   wizard-targets.png, wizard-plan-error.png, wizard-summary.png, and the telemetry charts:
//   telemetry-progress.png, telemetry-waves.png, telemetry-failure-reasons.png,
//   telemetry-adoption.png, telemetry-throughput.png, telemetry-install-duration.png, and the
//   Security menu's audit.png, users.png, notifications.png (AdministrationRenderer.h),
//   and the releases: releases.png (a two-person release's report), release-sign.png (New release)
#pragma once

#include "common/Error.h"

#include <QString>
#include <QStringList>

namespace otafleet::ui {
class MainWindow;
}

namespace otafleet::app {

class ViewRenderer {
public:
    // The file names written, in order.
    [[nodiscard]] static QStringList fileNames();
    // Errors: render.write (a PNG could not be written), render.view (a view is missing, e.g.
    // the window has no rollouts).
    [[nodiscard]] static Status renderAll(ui::MainWindow& window, const QString& directory);
};

}  // namespace otafleet::app
