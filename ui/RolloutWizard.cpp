#include "ui/RolloutWizard.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <QWizardPage>

#include <functional>

namespace otafleet::ui {

namespace {

// Typing pauses this long before the bundle is inspected or the targets counted again.
constexpr int kSettleMs = 250;
constexpr qsizetype kPreviewDevices = 5;
const QString kErrorStyle = QStringLiteral("color: #b00020;");
const QString kBadFieldStyle = QStringLiteral("QLineEdit { border: 2px solid #b00020; }");

// A page whose Next/Finish button follows a predicate; the wizard says when to ask it again.
class StepPage : public QWizardPage {
public:
    explicit StepPage(std::function<bool()> complete) : m_complete(std::move(complete)) {}
    [[nodiscard]] bool isComplete() const override { return m_complete(); }
    void recheck() { Q_EMIT completeChanged(); }

private:
    std::function<bool()> m_complete;
};

void recheck(QWizard* wizard, int id) {
    if (auto* page = dynamic_cast<StepPage*>(wizard->page(id)))
        page->recheck();
}

QLabel* errorLabel(const char* name) {
    auto* label = new QLabel;
    label->setObjectName(QLatin1String(name));
    label->setWordWrap(true);
    label->setStyleSheet(kErrorStyle);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

std::optional<QString> optionalText(const QLineEdit* edit) {
    const QString text = edit->text().trimmed();
    return text.isEmpty() ? std::nullopt : std::optional<QString>(text);
}

}  // namespace

RolloutWizard::RolloutWizard(fleet::FleetService& fleet, fleet::RolloutService& rollouts,
                             QString author, QWidget* parent)
    : QWizard(parent), m_fleet(fleet), m_rollouts(rollouts), m_author(std::move(author)) {
    setWindowTitle(tr("New rollout"));
    setObjectName(QStringLiteral("rolloutWizard"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnStartPage);
    setButtonText(QWizard::FinishButton, tr("&Create rollout"));
    setPage(ReleasePage, makeReleasePage());
    setPage(TargetsPage, makeTargetsPage());
    setPage(PlanPage, makePlanPage());
    setPage(SummaryPage, makeSummaryPage());
    connect(this, &QWizard::currentIdChanged, this, [this](int id) {
        if (id == SummaryPage)
            updateSummary();
    });
    connect(&m_rollouts, &fleet::RolloutService::requestFinished, this,
            &RolloutWizard::onRequestFinished);
    checkPlan();
    countTargets();
    resize(720, 560);
}

RolloutWizard::~RolloutWizard() = default;

// --- 1. Release --------------------------------------------------------------------------------

QWizardPage* RolloutWizard::makeReleasePage() {
    auto* page = new StepPage(
        [this] { return !m_name->text().trimmed().isEmpty() && QFileInfo(bundlePath()).isFile(); });
    page->setTitle(tr("Release"));
    page->setSubTitle(tr("Which signed bundle is rolled out, and under what name."));
    m_name = new QLineEdit;
    m_name->setObjectName(QStringLiteral("rolloutName"));
    m_name->setPlaceholderText(tr("e.g. 1.3.0 to the gateways"));
    m_bundle = new QComboBox;
    m_bundle->setObjectName(QStringLiteral("bundlePath"));
    m_bundle->setEditable(true);
    m_bundle->setInsertPolicy(QComboBox::NoInsert);
    m_bundle->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_bundle->lineEdit()->setPlaceholderText(tr("Path of a signed bundle (.otab)"));
    auto* browse = new QPushButton(tr("&Browse…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Release bundle"), QFileInfo(bundlePath()).absolutePath(),
            tr("Signed bundles (*.otab);;All files (*)"));
        if (!path.isEmpty())
            setBundlePath(path);
    });
    m_bundleVerdict = new QLabel;
    m_bundleVerdict->setObjectName(QStringLiteral("bundleVerdict"));
    m_bundleVerdict->setWordWrap(true);
    m_inspectTimer = new QTimer(this);
    m_inspectTimer->setSingleShot(true);
    m_inspectTimer->setInterval(kSettleMs);
    connect(m_inspectTimer, &QTimer::timeout, this, &RolloutWizard::inspectBundle);
    connect(m_bundle, &QComboBox::currentTextChanged, this, [this, page] {
        m_report.reset();
        m_bundleVerdict->setText(QFileInfo(bundlePath()).isFile()
                                     ? tr("Checking the bundle…")
                                     : tr("Choose the release's signed bundle (.otab)."));
        m_inspectTimer->start();
        page->recheck();
    });
    connect(m_name, &QLineEdit::textChanged, page, &StepPage::recheck);
    connect(&m_fleet, &fleet::FleetService::bundleInspected, this, &RolloutWizard::onInspected);

    auto* bundleRow = new QHBoxLayout;
    bundleRow->addWidget(m_bundle, 1);
    bundleRow->addWidget(browse);
    auto* form = new QFormLayout(page);
    form->addRow(tr("&Name:"), m_name);
    form->addRow(tr("&Bundle:"), bundleRow);
    form->addRow(QString(), m_bundleVerdict);
    return page;
}

QString RolloutWizard::bundlePath() const {
    return m_bundle->currentText().trimmed();
}

void RolloutWizard::setBundlePath(const QString& path) {
    m_bundle->setCurrentText(QDir::toNativeSeparators(path));
}

void RolloutWizard::setReleaseDirectory(const QString& directory) {
    const QString current = m_bundle->currentText();
    const QFileInfoList files =
        QDir(directory).entryInfoList({QStringLiteral("*.otab")}, QDir::Files, QDir::Name);
    for (const QFileInfo& file : files)
        m_bundle->addItem(QDir::toNativeSeparators(file.absoluteFilePath()));
    m_bundle->setCurrentText(current);
}

void RolloutWizard::inspectBundle() {
    if (QFileInfo(bundlePath()).isFile())
        m_fleet.inspectBundle(bundlePath(), 0);
}

void RolloutWizard::onInspected(const QString& path, const fleet::BundleReport& report) {
    if (path != bundlePath())
        return;  // an answer about a bundle no longer chosen
    m_report = report;
    QString text = report.verdictSentence();
    if (report.manifestRead) {
        text = tr("%1 %2 for %3, security version %4. %5")
                   .arg(report.product, report.version, report.hardware.join(QStringLiteral(", ")))
                   .arg(report.securityVersion)
                   .arg(text);
        if (m_name->text().trimmed().isEmpty())
            m_name->setText(tr("%1 %2").arg(report.product, report.version));
    }
    m_bundleVerdict->setText(text);
    m_bundleVerdict->setStyleSheet(
        report.verdict == fleet::BundleReport::Verdict::Refused ? kErrorStyle : QString());
}

// --- 2. Targets --------------------------------------------------------------------------------

QWizardPage* RolloutWizard::makeTargetsPage() {
    auto* page =
        new StepPage([this] { return !m_counting && m_targetsValid && !m_targets.isEmpty(); });
    page->setTitle(tr("Targets"));
    page->setSubTitle(
        tr("The devices the release goes to, chosen by a filter; they are "
           "offered it in the order of the device list."));
    m_filter = new QLineEdit;
    m_filter->setObjectName(QStringLiteral("targetFilter"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setPlaceholderText(
        tr("e.g. model = gateway-x1 and version < 1.3.0 (empty: every "
           "device)"));
    m_filter->setToolTip(
        tr("Fields: model, hardware, version, name, id, state (online or "
           "offline); operators = != < <= > >=; and, or, not, parentheses"));
    m_count = new QLabel;
    m_count->setObjectName(QStringLiteral("targetCount"));
    m_count->setWordWrap(true);
    m_count->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_preview = new QLabel;
    m_preview->setObjectName(QStringLiteral("targetPreview"));
    m_preview->setWordWrap(true);
    m_countTimer = new QTimer(this);
    m_countTimer->setSingleShot(true);
    m_countTimer->setInterval(kSettleMs);
    connect(m_countTimer, &QTimer::timeout, this, &RolloutWizard::countTargets);
    connect(m_filter, &QLineEdit::textChanged, this, [this] {
        ++m_countRequest;  // a count still running is about the old text: drop its answer
        m_counting = true;
        m_count->setStyleSheet(QString());
        m_count->setText(tr("Counting…"));
        m_preview->clear();
        recheck(this, TargetsPage);
        m_countTimer->start();
    });
    auto* layout = new QVBoxLayout(page);
    auto* label = new QLabel(tr("&Devices matching:"));
    label->setBuddy(m_filter);
    layout->addWidget(label);
    layout->addWidget(m_filter);
    layout->addWidget(m_count);
    layout->addWidget(m_preview);
    layout->addStretch();
    return page;
}

void RolloutWizard::setTargetFilter(const QString& expression) {
    m_filter->setText(expression);
}

void RolloutWizard::countTargets() {
    m_counting = true;
    const quint64 request = ++m_countRequest;
    auto* watcher = new QFutureWatcher<Result<QList<qint64>>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, request] {
        watcher->deleteLater();
        if (request != m_countRequest)
            return;  // the filter changed meanwhile; a newer count is on its way
        const Result<QList<qint64>> result = watcher->result();
        m_counting = false;
        m_targetsValid = result.has_value();
        m_targets = result ? *result : QList<qint64>();
        m_preview->clear();
        if (!result) {
            m_count->setStyleSheet(kErrorStyle);
            m_count->setText(result.error().message);
        } else {
            m_count->setStyleSheet(m_targets.isEmpty() ? kErrorStyle : QString());
            m_count->setText(m_targets.isEmpty() ? tr("No device matches; a rollout needs at "
                                                      "least one.")
                             : m_targets.size() == 1
                                 ? tr("1 device matches.")
                                 : tr("%1 devices match.").arg(m_targets.size()));
            // A few names, so the selection can be recognised (first in offer order).
            QStringList names;
            for (qsizetype i = 0; i < std::min<qsizetype>(kPreviewDevices, m_targets.size()); ++i)
                if (const auto device = m_fleet.device(m_targets.at(i)))
                    names.append(device->displayName());
            const qsizetype more = m_targets.size() - names.size();
            m_preview->setText(
                names.isEmpty() ? QString()
                : more > 0
                    ? tr("First: %1 and %2 more.").arg(names.join(QStringLiteral(", "))).arg(more)
                    : tr("Devices: %1.").arg(names.join(QStringLiteral(", "))));
        }
        recheck(this, TargetsPage);
        Q_EMIT targetsCounted();
    });
    watcher->setFuture(m_fleet.devicesMatching(m_filter->text().trimmed()));
}

// --- 3. Plan -----------------------------------------------------------------------------------

QWizardPage* RolloutWizard::makePlanPage() {
    auto* page = new StepPage([this] { return m_planValid; });
    page->setTitle(tr("Plan"));
    page->setSubTitle(
        tr("How the release spreads, and when it stops by itself. Empty fields "
           "take the default shown in grey."));
    auto* form = new QFormLayout;
    const auto field = [this, form](const QString& label, const char* name,
                                    const QString& placeholder, const QString& option,
                                    const QString& toolTip) {
        auto* edit = new QLineEdit;
        edit->setObjectName(QLatin1String(name));
        edit->setPlaceholderText(placeholder);
        edit->setToolTip(toolTip);
        connect(edit, &QLineEdit::textChanged, this, &RolloutWizard::checkPlan);
        form->addRow(label, edit);
        m_planFields.append({edit, option});
        return edit;
    };
    m_waves = field(tr("&Waves:"), "waves", tr("e.g. 1%,10%,50%,100% or 5,50,500"),
                    QStringLiteral("--waves"),
                    tr("Wave sizes in order: a percentage of the targets not yet in a wave, or "
                       "a number of devices"));
    m_waves->setText(QStringLiteral("10%,100%"));
    m_success = field(tr("&Success threshold:"), "successThreshold", QStringLiteral("95%"),
                      QStringLiteral("--success-threshold"),
                      tr("A wave passes once this share of its devices succeeded"));
    m_failure = field(tr("&Failure threshold:"), "failureThreshold", QStringLiteral("10%"),
                      QStringLiteral("--failure-threshold"),
                      tr("The rollout pauses itself when more than this share of a wave's "
                         "executed devices failed…"));
    m_minExecuted = field(tr("&Minimum executed:"), "minExecuted", QStringLiteral("5"),
                          QStringLiteral("--min-executed"),
                          tr("…once at least this many devices of the wave have finished"));
    m_soak = field(tr("S&oak time:"), "soak", QStringLiteral("0s"), QStringLiteral("--soak"),
                   tr("Wait after a wave passed before the next starts, e.g. 30m, 2h, 1d"));
    m_rate = field(tr("&Rate limit:"), "rate", tr("no limit"), QStringLiteral("--rate"),
                   tr("At most this many offers, e.g. 20/min or 300/h"));
    m_ramp = field(tr("R&amp factor:"), "ramp", tr("1 (no ramp)"), QStringLiteral("--ramp"),
                   tr("The rate grows by this factor each time as many devices succeeded as "
                      "the rate allows, e.g. 2"));
    m_timeout =
        field(tr("Device &timeout:"), "deviceTimeout", QStringLiteral("1h"),
              QStringLiteral("--device-timeout"), tr("An offered device must finish within this"));
    m_retries = field(tr("Re&tries:"), "retries", QStringLiteral("0"), QStringLiteral("--retries"),
                      tr("Offer again this many times after a failure or timeout"));
    m_window = field(tr("Maintenance &window:"), "window",
                     tr("always, e.g. Mon-Fri 02:00-05:00 "
                        "Europe/Berlin"),
                     QStringLiteral("--window"), tr("Offers are made only while it is open"));
    m_precheck =
        field(tr("&Pre-checks:"), "precheck", tr("none, e.g. battery>=30,free>=2x,health,link>=40"),
              QStringLiteral("--precheck"),
              tr("Checks a device runs before it accepts; a refusal skips it"));
    const auto box = [this, form](const QString& text, const char* name, const QString& toolTip) {
        auto* check = new QCheckBox(text);
        check->setObjectName(QLatin1String(name));
        check->setToolTip(toolTip);
        connect(check, &QCheckBox::toggled, this, &RolloutWizard::checkPlan);
        form->addRow(QString(), check);
        return check;
    };
    m_production = box(tr("Pro&duction: needs approval by someone other than me"), "production",
                       tr("Production rollouts wait in the approval inbox until another user "
                          "approves them"));
    m_emergency = box(tr("&Emergency security fix: skip soak times"), "emergency",
                      tr("Skips soak times between waves; approval is still needed"));
    m_lateJoiners = box(tr("&Include devices that match the filter later"), "lateJoiners",
                        tr("Devices that join the fleet later and match join the rollout"));
    m_planError = errorLabel("planError");
    auto* layout = new QVBoxLayout(page);
    layout->addLayout(form);
    layout->addWidget(m_planError);
    layout->addStretch();
    return page;
}

rollout::PlanOptions RolloutWizard::planOptions() const {
    rollout::PlanOptions options;
    options.waves = m_waves->text().trimmed();
    options.successThreshold = optionalText(m_success);
    options.failureThreshold = optionalText(m_failure);
    options.minExecuted = optionalText(m_minExecuted);
    options.soak = optionalText(m_soak);
    options.rate = optionalText(m_rate);
    options.ramp = optionalText(m_ramp);
    options.deviceTimeout = optionalText(m_timeout);
    options.retries = optionalText(m_retries);
    options.window = optionalText(m_window);
    options.precheck = optionalText(m_precheck);
    options.production = m_production->isChecked();
    options.emergency = m_emergency->isChecked();
    options.includeLateJoiners = m_lateJoiners->isChecked();
    return options;
}

Result<rollout::RolloutPlan> RolloutWizard::plan() const {
    return rollout::RolloutPlan::fromOptions(planOptions());
}

void RolloutWizard::checkPlan() {
    if (!m_planError)
        return;  // still building the page
    const Result<rollout::RolloutPlan> parsed = plan();
    m_planValid = parsed.has_value();
    // The field the parser's sentence is about: by its code where that names one, else the
    // option the sentence mentions first.
    QLineEdit* culprit = nullptr;
    if (!parsed) {
        const QString& code = parsed.error().code;
        const QString& message = parsed.error().message;
        if (code == QLatin1String("plan.waves"))
            culprit = m_waves;
        else if (code == QLatin1String("plan.window") || code == QLatin1String("plan.timezone"))
            culprit = m_window;
        else if (code == QLatin1String("plan.precheck"))
            culprit = m_precheck;
        qsizetype first = message.size();
        QLineEdit* mentioned = nullptr;
        for (const PlanField& f : std::as_const(m_planFields)) {
            const qsizetype at = message.indexOf(f.option);
            if (at >= 0 && at < first) {
                first = at;
                mentioned = f.edit;
            }
        }
        if (!culprit)
            culprit = mentioned;
        if (!culprit && message.contains(QLatin1String("--emergency")))
            culprit = m_soak;
    }
    for (const PlanField& f : std::as_const(m_planFields))
        f.edit->setStyleSheet(f.edit == culprit ? kBadFieldStyle : QString());
    m_planError->setText(parsed ? QString() : parsed.error().message);
    recheck(this, PlanPage);
}

// --- 4. Summary --------------------------------------------------------------------------------

QWizardPage* RolloutWizard::makeSummaryPage() {
    auto* page = new StepPage([] { return true; });
    page->setTitle(tr("Summary"));
    page->setSubTitle(tr("Read it once more: this is what the rollout will do."));
    page->setFinalPage(true);
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("summary"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont font = m_summary->font();
    font.setPointSizeF(font.pointSizeF() * 1.1);
    m_summary->setFont(font);
    m_startNow =
        new QCheckBox(tr("&Start it now (a production rollout then waits for its "
                         "approval)"));
    m_startNow->setObjectName(QStringLiteral("startNow"));
    m_createError = errorLabel("createError");
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(m_summary);
    layout->addSpacing(12);
    layout->addWidget(m_startNow);
    layout->addWidget(m_createError);
    layout->addStretch();
    return page;
}

QString RolloutWizard::summaryText() const {
    const Result<rollout::RolloutPlan> parsed = plan();
    const QString release =
        m_report && m_report->manifestRead
            ? tr("%1 %2 (%3)")
                  .arg(m_report->product, m_report->version, QFileInfo(bundlePath()).fileName())
            : QFileInfo(bundlePath()).fileName();
    const QString filter = m_filter->text().trimmed();
    const QString devices =
        m_targets.size() == 1 ? tr("1 device") : tr("%1 devices").arg(m_targets.size());
    const QString selection = filter.isEmpty() ? tr("%1 (the whole fleet)").arg(devices)
                                               : tr("%1 matching “%2”").arg(devices, filter);
    return tr("“%1” rolls out %2 to %3. %4")
        .arg(m_name->text().trimmed(), release, selection,
             parsed ? parsed->describe() : parsed.error().message);
}

void RolloutWizard::updateSummary() {
    m_summary->setText(summaryText());
    m_createError->clear();
}

bool RolloutWizard::validateCurrentPage() {
    if (currentId() != SummaryPage)
        return QWizard::validateCurrentPage();
    if (m_request != 0)
        return false;  // the service has not answered yet
    if (m_created)
        return true;
    const Result<rollout::RolloutPlan> parsed = plan();
    if (!parsed) {
        m_createError->setText(parsed.error().message);
        return false;
    }
    fleet::RolloutDraft draft;
    draft.name = m_name->text().trimmed();
    draft.bundlePath = bundlePath();
    draft.options = planOptions();
    draft.plan = *parsed;
    draft.targetFilter = m_filter->text().trimmed();
    draft.deviceIds = m_targets;
    draft.author = author();
    // The wizard stays open until the service answered (onRequestFinished() closes it).
    m_createError->setStyleSheet(QString());
    m_createError->setText(tr("Creating the rollout…"));
    button(QWizard::FinishButton)->setEnabled(false);
    m_request = m_rollouts.requestCreate(draft);
    return false;
}

QString RolloutWizard::author() const {
    const QString signedIn = m_rollouts.signedInUser();
    return signedIn.isEmpty() ? m_author : signedIn;
}

void RolloutWizard::onRequestFinished(quint64 request, qint64 rolloutId,
                                      const std::optional<Error>& error) {
    if (request != m_request)
        return;
    m_request = 0;
    button(QWizard::FinishButton)->setEnabled(true);
    m_createError->setStyleSheet(kErrorStyle);
    if (!m_created) {
        if (error) {
            m_createError->setText(error->message);
            return;
        }
        m_created = rolloutId;
        m_createError->clear();
        Q_EMIT rolloutCreated(rolloutId);
        if (m_startNow->isChecked()) {
            m_createError->setStyleSheet(QString());
            m_createError->setText(tr("Starting the rollout…"));
            button(QWizard::FinishButton)->setEnabled(false);
            m_request = m_rollouts.requestAction(rolloutId, fleet::RolloutAction::Start, author());
            return;
        }
    } else if (error) {
        // Created is created: a refused start is reported, and the monitor can start it later.
        m_createError->setText(
            tr("The rollout was created but not started: %1").arg(error->message));
        return;
    }
    accept();
}

}  // namespace otafleet::ui
