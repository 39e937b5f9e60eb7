// Joins the console's Station view (ui/, widgets only) to the factory station (services/station):
// a Start in the view opens a StationSession with the view's settings (the PKI token's PIN asked
// through the PIN dialog when identities are provisioned), the tile model follows its units, and
// the summary line shows units per hour and first-pass yield. One run at a time.
#pragma once

#include "station/StationSession.h"
#include "station/StationTileModel.h"
#include "ui/StationView.h"

#include <QObject>

#include <memory>

namespace otafleet::app {

class StationConsole : public QObject {
    Q_OBJECT
public:
    // `defaults` pre-fills the view (the console's PKI, a database in its data folder).
    StationConsole(const ui::StationViewRequest& defaults, QObject* parent = nullptr);
    ~StationConsole() override;

    [[nodiscard]] ui::StationView* view() const { return m_view; }  // for a tab; parent it there
    [[nodiscard]] station::StationTileModel* model() const { return m_model; }

Q_SIGNALS:
    // A run takes the ports matching `portPattern` for itself until runFinished(): the
    // console's own serial hot-plug must leave them alone.
    void runStarted(const QString& portPattern);
    void runFinished();

private:
    void start(const ui::StationViewRequest& request);
    void finish();

    station::StationTileModel* m_model;
    ui::StationView* m_view;
    std::unique_ptr<station::StationSession> m_session;
};

}  // namespace otafleet::app
