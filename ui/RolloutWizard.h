// "New rollout": a four-step wizard.
//   1. Release   a name and the signed bundle (.otab) to roll out, checked in the background
//                against the fleet's release trust (FleetService::inspectBundle).
//   2. Targets   a device filter expression (the filter bar's language) with a live count of the
//                devices it selects, computed off the GUI thread (FleetService::devicesMatching).
//   3. Plan      waves, success and failure thresholds, minimum executed, soak, rate and ramp,
//                device timeout and retries, maintenance window, pre-checks, production,
//                emergency and late joiners, typed as `rollout create` takes them; every edit is
//                checked by rollout::RolloutPlan::fromOptions and its own sentence is shown
//                under the form, the field it names outlined.
//   4. Summary   the whole plan as one sentence (RolloutPlan::describe()) and "Start it now".
// Finishing asks the RolloutService to create the rollout (and start it when asked) and closes
// the wizard once it answered; a refusal is shown on the summary page and the wizard stays open.
// The author is the user a server signed in, where there is one.
#pragma once

#include "fleet/BundleReport.h"
#include "fleet/FleetService.h"
#include "fleet/RolloutService.h"

#include <QList>
#include <QWizard>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QTimer;

namespace otafleet::ui {

class RolloutWizard : public QWizard {
    Q_OBJECT
public:
    enum PageId { ReleasePage, TargetsPage, PlanPage, SummaryPage };

    // `author` is who the rollout records as its author.
    RolloutWizard(fleet::FleetService& fleet, fleet::RolloutService& rollouts, QString author,
                  QWidget* parent = nullptr);
    ~RolloutWizard() override;

    // Pre-fills (the main window passes the device filter in use and the release folder).
    void setBundlePath(const QString& path);
    void setTargetFilter(const QString& expression);
    // Lists the .otab files of `directory` as choices of release.
    void setReleaseDirectory(const QString& directory);

    // The plan as the fields describe it now, or the parser's error.
    [[nodiscard]] Result<rollout::RolloutPlan> plan() const;
    [[nodiscard]] rollout::PlanOptions planOptions() const;
    // Whether the service is still creating (or starting) the rollout.
    [[nodiscard]] bool isCreating() const { return m_request != 0; }
    // The devices the last finished count selected (what the rollout will target).
    [[nodiscard]] const QList<qint64>& targets() const { return m_targets; }
    [[nodiscard]] bool isCounting() const { return m_counting; }
    [[nodiscard]] QString summaryText() const;
    [[nodiscard]] qint64 createdRollout() const { return m_created; }

    [[nodiscard]] bool validateCurrentPage() override;

Q_SIGNALS:
    void rolloutCreated(qint64 id);
    // A live count finished (for tests and for anyone who waits on it without blocking).
    void targetsCounted();

private:
    QWizardPage* makeReleasePage();
    QWizardPage* makeTargetsPage();
    QWizardPage* makePlanPage();
    QWizardPage* makeSummaryPage();
    void inspectBundle();
    void onInspected(const QString& path, const fleet::BundleReport& report);
    void countTargets();
    void checkPlan();
    void updateSummary();
    [[nodiscard]] QString bundlePath() const;
    [[nodiscard]] QString author() const;
    void onRequestFinished(quint64 request, qint64 rolloutId, const std::optional<Error>& error);

    struct PlanField {
        QLineEdit* edit = nullptr;
        QString option;  // as the parser's sentences name it, e.g. "--soak"
    };

    fleet::FleetService& m_fleet;
    fleet::RolloutService& m_rollouts;
    QString m_author;

    QLineEdit* m_name = nullptr;
    QComboBox* m_bundle = nullptr;
    QLabel* m_bundleVerdict = nullptr;
    std::optional<fleet::BundleReport> m_report;
    QTimer* m_inspectTimer = nullptr;

    QLineEdit* m_filter = nullptr;
    QLabel* m_count = nullptr;
    QLabel* m_preview = nullptr;  // the first few matching devices by name
    QTimer* m_countTimer = nullptr;
    quint64 m_countRequest = 0;  // only the latest request's answer counts
    bool m_counting = false;
    bool m_targetsValid = false;
    QList<qint64> m_targets;

    QList<PlanField> m_planFields;
    QLineEdit* m_waves = nullptr;
    QLineEdit* m_success = nullptr;
    QLineEdit* m_failure = nullptr;
    QLineEdit* m_minExecuted = nullptr;
    QLineEdit* m_soak = nullptr;
    QLineEdit* m_rate = nullptr;
    QLineEdit* m_ramp = nullptr;
    QLineEdit* m_timeout = nullptr;
    QLineEdit* m_retries = nullptr;
    QLineEdit* m_window = nullptr;
    QLineEdit* m_precheck = nullptr;
    QCheckBox* m_production = nullptr;
    QCheckBox* m_emergency = nullptr;
    QCheckBox* m_lateJoiners = nullptr;
    QLabel* m_planError = nullptr;
    bool m_planValid = false;

    QLabel* m_summary = nullptr;
    QCheckBox* m_startNow = nullptr;
    QLabel* m_createError = nullptr;
    qint64 m_created = 0;
    quint64 m_request = 0;  // the create or start the service has not answered yet
};

}  // namespace otafleet::ui
