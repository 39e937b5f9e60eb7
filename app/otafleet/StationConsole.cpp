#include "StationConsole.h"

#include "ui/PinDialog.h"

#include <QTimer>

namespace otafleet::app {

StationConsole::StationConsole(const ui::StationViewRequest& defaults, QObject* parent)
    : QObject(parent),
      m_model(new station::StationTileModel(this)),
      m_view(new ui::StationView(m_model)) {
    m_view->setRequest(defaults);
    connect(m_view, &ui::StationView::startRequested, this, &StationConsole::start);
    connect(m_view, &ui::StationView::stopRequested, this, [this] {
        if (m_session) {
            m_session->station().stop(Error{QStringLiteral("station.interrupted"),
                                            QStringLiteral("The operator stopped the station "
                                                           "while this unit was in progress; run "
                                                           "the unit again.")});
        }
    });
    connect(
        m_model, &station::StationTileModel::summaryChanged, this,
        [this](const station::StationSummary& s) {
            const auto percent = [](const std::optional<double>& v) {
                return v ? QStringLiteral("%1%").arg(*v * 100.0, 0, 'f', 1) : QStringLiteral("n/a");
            };
            m_view->setSummary(tr("%1 units: %2 passed, %3 failed. First-pass yield %4. "
                                  "%5 units per hour.")
                                   .arg(s.units)
                                   .arg(s.passed)
                                   .arg(s.failed)
                                   .arg(percent(s.firstPassYield))
                                   .arg(s.unitsPerHour ? QString::number(*s.unitsPerHour, 'f', 0)
                                                       : QStringLiteral("n/a")));
        });
}

StationConsole::~StationConsole() {
    m_session.reset();
}

void StationConsole::start(const ui::StationViewRequest& r) {
    if (m_session) {
        return;
    }
    station::StationRequest request;
    request.portPattern = r.ports;
    request.imagePath = r.image;
    request.releaseKeyPath = r.releaseKey;
    request.pkiDirectory = r.pki;
    request.provisionIdentity = r.provisionIdentity;
    request.operatorName = r.operatorName;
    request.stationId = r.stationId;
    request.databasePath = r.database;
    request.maxUnits = r.units;
    QWidget* parentWindow = m_view->window();
    request.pin = [parentWindow]() -> Result<crypto::SecretString> {
        ui::PinDialog dialog(QStringLiteral("PKI"),
                             tr("The station's device CA key is on a token; its PIN is needed "
                                "once, to certify the units of this run."),
                             parentWindow);
        if (dialog.exec() != QDialog::Accepted) {
            return fail(QStringLiteral("console.pin-cancelled"),
                        QStringLiteral("No PIN was entered for the token."));
        }
        return crypto::SecretString(dialog.takePin());
    };
    auto session = station::StationSession::open(request);
    if (!session) {
        m_view->showError(session.error().toString());
        return;
    }
    m_session = std::move(*session);
    m_model->clear();
    m_model->attach(m_session->station());
    connect(&m_session->station(), &station::Station::finished, this, &StationConsole::finish);
    connect(&m_session->station(), &station::Station::storeFailed, this,
            [this](const Error& error) { m_view->showError(error.toString()); });
    m_view->setRunning(true);
    Q_EMIT runStarted(request.portPattern);
    m_session->station().start();
}

void StationConsole::finish() {
    m_view->setRunning(false);
    Q_EMIT runFinished();
    // The session's station is still delivering its last signal: let it go afterwards.
    QTimer::singleShot(0, this, [this] { m_session.reset(); });
}

}  // namespace otafleet::app
