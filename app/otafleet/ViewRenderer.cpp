#include "ViewRenderer.h"

#include "AdministrationRenderer.h"

#include "ui/ApprovalInbox.h"
#include "ui/DashboardView.h"
#include "ui/MainWindow.h"
#include "ui/ReleaseTableModel.h"
#include "ui/ReleasesView.h"
#include "ui/RolloutMonitor.h"
#include "ui/RolloutTableModel.h"
#include "ui/RolloutWizard.h"
#include "ui/RolloutsView.h"
#include "ui/SignReleaseDialog.h"
#include "ui/TelemetryView.h"

#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QTabWidget>
#include <QTimer>

namespace otafleet::app {

namespace {

constexpr int kSettleMs = 300;
constexpr int kMaxWaitMs = 10000;

// Lets timers, coalesced reloads and queued results run for `ms`.
void settle(int ms = kSettleMs) {
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

void settleUntil(const std::function<bool()>& done) {
    QElapsedTimer waited;
    waited.start();
    while (!done() && waited.elapsed() < kMaxWaitMs)
        settle(50);
    settle();
}

Status save(QWidget& widget, const QDir& directory, const QString& name) {
    const QString path = directory.filePath(name);
    if (!widget.grab().save(path, "PNG")) {
        return fail(QStringLiteral("render.write"),
                    QStringLiteral("%1 could not be written; check that the folder is "
                                   "writable.")
                        .arg(QDir::toNativeSeparators(path)));
    }
    return {};
}

// The first rollout in `state` (a rolloutStateName), else the first one.
qint64 rolloutIn(const ui::RolloutTableModel& model, const QString& state) {
    qint64 first = 0;
    for (int row = 0; row < model.rowCount(); ++row) {
        const qint64 id =
            model.index(row, 0).data(ui::RolloutTableModel::RolloutIdRole).toLongLong();
        if (!first)
            first = id;
        if (model.index(row, ui::RolloutTableModel::State).data().toString() == state)
            return id;
    }
    return first;
}

template <typename T>
T* child(QObject& parent, const char* name) {
    return parent.findChild<T*>(QLatin1String(name));
}

// Every telemetry chart: progress and waves of the completed rollout (three waves), the failure
// reasons of the one the engine paused (two kinds of failure), the fleet-wide ones as they are.
Status renderTelemetry(ui::MainWindow& window, const QDir& dir) {
    ui::TelemetryView* telemetry = window.telemetryView();
    if (!telemetry) {
        return fail(QStringLiteral("render.view"),
                    QStringLiteral("The console has no telemetry view to render."));
    }
    window.tabs()->setCurrentWidget(telemetry);
    settleUntil([telemetry] { return !telemetry->isLoading(); });
    const auto showRolloutIn = [telemetry](const QString& state) {
        for (const fleet::RolloutChoice& r : telemetry->report().rollouts) {
            if (r.state != state || r.id == telemetry->rolloutId())
                continue;
            telemetry->selectRollout(r.id);
            settleUntil([telemetry] { return !telemetry->isLoading(); });
            return;
        }
    };
    using Chart = ui::TelemetryView::Chart;
    for (Chart chart : {Chart::Progress, Chart::Waves, Chart::FailureReasons, Chart::Adoption,
                        Chart::Throughput, Chart::InstallDuration}) {
        if (chart == Chart::Progress)
            showRolloutIn(QStringLiteral("completed"));
        else if (chart == Chart::FailureReasons)
            showRolloutIn(QStringLiteral("paused"));
        telemetry->showChart(chart);
        settle();
        const QString name =
            QStringLiteral("telemetry-%1.png").arg(ui::TelemetryView::chartName(chart));
        if (auto saved = save(window, dir, name); !saved)
            return saved;
    }
    return {};
}

// The releases: the two-person release selected with its checked report, then the New release
// dialog filled in as a release manager would, both signers chosen.
Status renderReleases(ui::MainWindow& window, const QDir& dir) {
    ui::ReleasesView* releases = window.releasesView();
    if (!releases) {
        return fail(QStringLiteral("render.view"),
                    QStringLiteral("The console has no releases view to render."));
    }
    window.tabs()->setCurrentWidget(releases);
    ui::ReleaseTableModel* model = releases->model();
    settleUntil([model] { return model->rowCount() > 0; });
    for (int row = 0; row < model->rowCount(); ++row) {
        if (model->releaseAt(row).signers.size() > 1) {
            releases->selectRelease(model->releaseAt(row).id);
            break;
        }
    }
    settleUntil([releases] { return releases->report().has_value(); });
    if (auto saved = save(window, dir, QStringLiteral("releases.png")); !saved)
        return saved;
    ui::SignReleaseDialog* sign = releases->openSignDialog();
    if (!sign)
        return fail(QStringLiteral("render.view"), QStringLiteral("New release did not open."));
    settleUntil([sign] { return !sign->signers().isEmpty(); });
    child<QLineEdit>(*sign, "product")->setText(QStringLiteral("gateway-x1"));
    child<QLineEdit>(*sign, "version")->setText(QStringLiteral("1.3.1"));
    child<QLineEdit>(*sign, "hardware")->setText(QStringLiteral("rev-a, rev-b"));
    child<QSpinBox>(*sign, "securityVersion")->setValue(4);
    child<QPlainTextEdit>(*sign, "releaseNotes")
        ->setPlainText(QStringLiteral("Fixes the radio's reconnect after a brown-out."));
    sign->addPayload(QStringLiteral("rootfs"), QStringLiteral("/srv/build/gateway-x1/rootfs.img"));
    child<QCheckBox>(*sign, "twoPerson")->setChecked(true);
    sign->resize(760, 620);
    settle();
    const Status saved = save(*sign, dir, QStringLiteral("release-sign.png"));
    sign->reject();
    return saved;
}

}  // namespace

QStringList ViewRenderer::fileNames() {
    return {QStringLiteral("devices.png"),
            QStringLiteral("dashboard.png"),
            QStringLiteral("rollouts.png"),
            QStringLiteral("rollout-monitor.png"),
            QStringLiteral("approvals.png"),
            QStringLiteral("wizard-targets.png"),
            QStringLiteral("wizard-plan-error.png"),
            QStringLiteral("wizard-summary.png"),
            QStringLiteral("telemetry-progress.png"),
            QStringLiteral("telemetry-waves.png"),
            QStringLiteral("telemetry-failure-reasons.png"),
            QStringLiteral("telemetry-adoption.png"),
            QStringLiteral("telemetry-throughput.png"),
            QStringLiteral("telemetry-install-duration.png"),
            QStringLiteral("audit.png"),
            QStringLiteral("users.png"),
            QStringLiteral("notifications.png"),
            QStringLiteral("releases.png"),
            QStringLiteral("release-sign.png")};
}

Status ViewRenderer::renderAll(ui::MainWindow& window, const QString& directory) {
    const QDir dir(directory);
    if (!QDir().mkpath(directory)) {
        return fail(QStringLiteral("render.write"),
                    QStringLiteral("The folder %1 cannot be created; choose another.")
                        .arg(QDir::toNativeSeparators(directory)));
    }
    ui::RolloutsView* rollouts = window.rolloutsView();
    if (!rollouts || !window.approvalInbox()) {
        return fail(QStringLiteral("render.view"),
                    QStringLiteral("The console has no rollout views to render."));
    }
    window.resize(1280, 820);
    window.show();
    settle();

    QTabWidget* tabs = window.tabs();
    tabs->setCurrentIndex(0);
    settle();
    if (auto saved = save(window, dir, QStringLiteral("devices.png")); !saved)
        return saved;

    tabs->setCurrentWidget(window.dashboard());
    window.dashboard()->reload();
    settle();
    if (auto saved = save(window, dir, QStringLiteral("dashboard.png")); !saved)
        return saved;

    tabs->setCurrentWidget(rollouts);
    rollouts->selectRollout(rolloutIn(*rollouts->model(), QStringLiteral("completed")));
    settle();
    if (auto saved = save(window, dir, QStringLiteral("rollouts.png")); !saved)
        return saved;
    rollouts->selectRollout(rolloutIn(*rollouts->model(), QStringLiteral("paused")));
    settle();
    if (auto saved = save(window, dir, QStringLiteral("rollout-monitor.png")); !saved)
        return saved;

    tabs->setCurrentWidget(window.approvalInbox());
    settle();
    if (auto saved = save(window, dir, QStringLiteral("approvals.png")); !saved)
        return saved;

    // The wizard as someone planning the rev-b gateways' update would fill it in.
    ui::RolloutWizard* wizard = window.openRolloutWizard();
    if (!wizard)
        return fail(QStringLiteral("render.view"), QStringLiteral("The wizard did not open."));
    child<QLineEdit>(*wizard, "rolloutName")->setText(QStringLiteral("gateway-x1 rev-b to 1.3.0"));
    wizard->setBundlePath(QStringLiteral("/srv/releases/gateway-x1-1.3.0.otab"));
    wizard->setTargetFilter(
        QStringLiteral("model = gateway-x1 and hardware = rev-b and version < 1.3.0"));
    wizard->next();
    settleUntil([wizard] { return !wizard->isCounting(); });
    if (auto saved = save(*wizard, dir, QStringLiteral("wizard-targets.png")); !saved)
        return saved;
    wizard->next();
    child<QLineEdit>(*wizard, "waves")->setText(QStringLiteral("5%,25%,100%"));
    child<QLineEdit>(*wizard, "failureThreshold")->setText(QStringLiteral("15%"));
    child<QLineEdit>(*wizard, "minExecuted")->setText(QStringLiteral("3"));
    child<QLineEdit>(*wizard, "rate")->setText(QStringLiteral("30/min"));
    child<QLineEdit>(*wizard, "ramp")->setText(QStringLiteral("1.5"));
    child<QLineEdit>(*wizard, "window")
        ->setText(QStringLiteral("Mon-Fri 01:00-05:00 Europe/Berlin"));
    child<QLineEdit>(*wizard, "precheck")->setText(QStringLiteral("battery>=30,health"));
    child<QCheckBox>(*wizard, "production")->setChecked(true);
    child<QLineEdit>(*wizard, "soak")->setText(QStringLiteral("one hour"));
    settle();
    if (auto saved = save(*wizard, dir, QStringLiteral("wizard-plan-error.png")); !saved)
        return saved;
    child<QLineEdit>(*wizard, "soak")->setText(QStringLiteral("1h"));
    wizard->next();
    settle();
    const Status saved = save(*wizard, dir, QStringLiteral("wizard-summary.png"));
    wizard->reject();
    if (!saved)
        return saved;
    if (auto telemetry = renderTelemetry(window, dir); !telemetry)
        return telemetry;
    if (auto releases = renderReleases(window, dir); !releases)
        return releases;
    return renderAdministration(window, directory);
}

}  // namespace otafleet::app
