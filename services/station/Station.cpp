#include "station/Station.h"

#include <QFileInfo>
#include <QSet>

#include <glob.h>

namespace otafleet::station {

Station::Station(StationOptions options, TraceStore* store, QObject* parent)
    : QObject(parent), m_options(std::move(options)), m_store(store) {
    m_poll.setInterval(m_options.pollMs);
    connect(&m_poll, &QTimer::timeout, this, &Station::poll);
}

Station::~Station() {
    for (StationUnit* unit : std::as_const(m_units)) {
        unit->disconnect(this);
        delete unit;
    }
}

QStringList Station::matchPorts(const QString& pattern) {
    glob_t matches{};
    const QByteArray bytes = pattern.toLocal8Bit();
    QSet<QString> resolved;
    if (::glob(bytes.constData(), GLOB_NOSORT, nullptr, &matches) == 0) {
        for (size_t i = 0; i < matches.gl_pathc; ++i) {
            const QFileInfo info(QString::fromLocal8Bit(matches.gl_pathv[i]));
            const QString target = info.canonicalFilePath();  // empty: a dangling link
            if (!target.isEmpty() && !QFileInfo(target).isDir()) {
                resolved.insert(target);
            }
        }
    }
    ::globfree(&matches);
    QStringList out(resolved.cbegin(), resolved.cend());
    out.sort();
    return out;
}

void Station::start() {
    m_poll.start();
    poll();
}

void Station::poll() {
    if (m_stopping) {
        return;
    }
    const QStringList present = matchPorts(m_options.portPattern);
    // A finished unit's port that went away is free for the next unit.
    const QSet<QString> presentSet(present.cbegin(), present.cend());
    for (auto it = m_done.begin(); it != m_done.end();) {
        it = presentSet.contains(*it) ? std::next(it) : m_done.erase(it);
    }
    for (const QString& port : present) {
        if (m_options.maxUnits > 0 && m_started >= m_options.maxUnits) {
            break;
        }
        if (m_units.contains(port) || m_done.contains(port)) {
            continue;
        }
        auto* unit = new StationUnit(port, m_options.job, this);
        m_units.insert(port, unit);
        ++m_started;
        connect(unit, &StationUnit::stageChanged, this,
                [this, port](const QString& stage, const QString& serial) {
                    Q_EMIT unitStage(port, serial, stage);
                });
        connect(unit, &StationUnit::progress, this, [this, port](qint64 done, qint64 total) {
            Q_EMIT unitProgress(port, done, total);
        });
        connect(unit, &StationUnit::finished, this,
                [this, unit](const UnitRecord& record) { onUnitFinished(unit, record); });
        Q_EMIT unitStarted(port);
        unit->start();
    }
}

void Station::onUnitFinished(StationUnit* unit, const UnitRecord& record) {
    const QString port = unit->port();
    m_units.remove(port);
    m_done.insert(port);
    unit->deleteLater();
    m_records.append(record);
    if (m_store != nullptr) {
        if (const Status stored = m_store->add(record); !stored) {
            Q_EMIT storeFailed(stored.error());
        }
    }
    Q_EMIT unitFinished(record);
    finishIfDone();
}

void Station::finishIfDone() {
    const bool allStarted = m_options.maxUnits > 0 && m_started >= m_options.maxUnits;
    if ((m_stopping || allStarted) && m_units.isEmpty() && !m_finishedEmitted) {
        m_finishedEmitted = true;
        m_poll.stop();
        Q_EMIT finished();
    }
}

void Station::stop(const Error& why) {
    m_stopping = true;
    m_poll.stop();
    const QList<StationUnit*> units = m_units.values();
    for (StationUnit* unit : units) {
        unit->abort(why);  // finished -> onUnitFinished records it
    }
    finishIfDone();
}

}  // namespace otafleet::station
