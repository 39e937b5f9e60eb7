#include "SampleHistory.h"

#include "store/FleetStore.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace otafleet::app {

namespace {

using rollout::DeviceState;

constexpr qint64 kMonthSecs = 30LL * 24 * 3600;
constexpr qint64 kHourSecs = 3600;

struct Profile {
    double bytes;           // of the update bundle
    double minThroughput;   // bytes per second
    double throughputSpan;  // added, times a triangular random factor in [0, 1]
    double minInstallSecs;
    double installSpan;
};

// Gateways download over Ethernet and write a large rootfs; sensors have a thin link and a
// small image.
Profile profileOf(const QString& model) {
    if (model.startsWith(QLatin1String("sensor")))
        return {1.5e6, 0.08e6, 0.5e6, 6, 14};
    return {48e6, 0.8e6, 5.0e6, 30, 70};
}

class EventWriter {
public:
    EventWriter(qint64 deviceId, QList<store::TelemetryRecord>& out)
        : m_deviceId(deviceId), m_out(out) {}

    void phase(const QDateTime& time, const QString& phase, QJsonObject fields) {
        fields.insert(QStringLiteral("phase"), phase);
        add(time, QStringLiteral("phase"), phase, std::move(fields));
    }
    void boot(const QDateTime& time, const QString& version, bool trial) {
        ++m_boots;
        add(time, QStringLiteral("boot"), QStringLiteral("boot"),
            {{QStringLiteral("boot_count"), double(m_boots)},
             {QStringLiteral("slot"), m_boots % 2 ? QStringLiteral("A") : QStringLiteral("B")},
             {QStringLiteral("version"), version},
             {QStringLiteral("trial"), trial},
             {QStringLiteral("state"), trial ? QStringLiteral("trial") : QStringLiteral("idle")},
             {QStringLiteral("start_to_serving_ms"), 850.0},
             {QStringLiteral("error_code"), QString()},
             {QStringLiteral("error_message"), QString()}});
    }

private:
    // As EmbeddedFleet stores what an agent sends: the event JSON of `device events --json`,
    // typed by its phase for phase events.
    void add(const QDateTime& time, const QString& type, const QString& storedType,
             QJsonObject fields) {
        fields.insert(QStringLiteral("seq"), double(++m_seq));
        fields.insert(QStringLiteral("time"), time.toUTC().toString(Qt::ISODateWithMs));
        fields.insert(QStringLiteral("type"), type);
        m_out.append({m_deviceId, m_seq, time.toUTC(), storedType,
                      QJsonDocument(fields).toJson(QJsonDocument::Compact)});
    }

    qint64 m_deviceId;
    QList<store::TelemetryRecord>& m_out;
    quint64 m_seq = 0;
    quint64 m_boots = 0;
};

QJsonObject transfer(const QString& version, double bytes) {
    return {{QStringLiteral("transfer_id"), QStringLiteral("t-") + version},
            {QStringLiteral("version"), version},
            {QStringLiteral("slot"), QStringLiteral("B")},
            {QStringLiteral("total_bytes"), bytes},
            {QStringLiteral("offset"), 0.0},
            {QStringLiteral("error_code"), QString()}};
}

}  // namespace

void SampleHistory::addRollout(qint64 rolloutId, const QString& version,
                               const QList<SampleAttempt>& attempts) {
    m_rollouts.append({rolloutId, attempts});
    for (const SampleAttempt& a : attempts) {
        m_updates[a.deviceId].append(
            {a.offered, version, a.outcome, a.reason.section(u':', 0, 0).trimmed()});
    }
}

Status SampleHistory::write(store::FleetStore& store,
                            const QHash<qint64, SampleDeviceHistory>& devices) {
    const auto uniform = [this] { return m_random.generateDouble(); };
    const auto triangular = [&uniform] { return (uniform() + uniform()) / 2; };
    QHash<qint64, QDateTime> endOf;  // (device, offer time) -> when the attempt ended
    const auto endKey = [](qint64 device, const QDateTime& offered) {
        return device * 1'000'003 + offered.toSecsSinceEpoch();
    };

    QList<store::TelemetryRecord> telemetry;
    QList<qint64> ids = devices.keys();
    std::sort(ids.begin(), ids.end());  // the same store every time
    for (qint64 id : std::as_const(ids)) {
        const SampleDeviceHistory& d = devices.value(id);
        if (d.version.isEmpty())
            continue;  // never answered: it told nobody anything
        const Profile profile = profileOf(d.model);
        EventWriter events(id, telemetry);
        QString running = d.firstVersion.isEmpty() ? d.version : d.firstVersion;
        const QDateTime firstBoot =
            m_now.addSecs(-kMonthSecs + qint64(uniform() * 3 * 24 * kHourSecs));
        events.boot(firstBoot, running, false);

        QList<Update> updates = m_updates.value(id);
        std::sort(updates.begin(), updates.end(),
                  [](const Update& a, const Update& b) { return a.offered < b.offered; });
        const QDateTime lastRollout = updates.isEmpty() ? firstBoot : updates.last().offered;
        // A technician updated it by hand to what it runs now, where no rollout explains it.
        const QString finalByRollouts = [&] {
            QString v = running;
            for (const Update& u : std::as_const(updates))
                if (u.outcome == DeviceState::Succeeded)
                    v = u.version;
            return v;
        }();
        if (finalByRollouts != d.version) {
            const qint64 from = std::max(lastRollout.toSecsSinceEpoch() + kHourSecs,
                                         m_now.toSecsSinceEpoch() - 25 * 24 * kHourSecs);
            const qint64 to = m_now.toSecsSinceEpoch() - kHourSecs;
            const qint64 at = from < to ? from + qint64(uniform() * double(to - from))
                                        : m_now.toSecsSinceEpoch() - kHourSecs / 2;
            updates.append({QDateTime::fromSecsSinceEpoch(at, Qt::UTC),
                            d.version,
                            DeviceState::Succeeded,
                            {}});
        }

        for (const Update& u : std::as_const(updates)) {
            const double bytes = profile.bytes;
            const double throughput = profile.minThroughput + profile.throughputSpan * triangular();
            const double downloadSecs = bytes / throughput;
            const double installSecs = profile.minInstallSecs + profile.installSpan * triangular();
            QDateTime t = u.offered.addMSecs(qint64(downloadSecs * 1000));
            QDateTime end;
            if (u.errorCode == QLatin1String("link.timeout")) {
                // The transfer never finished: the link dropped half way.
                QJsonObject f = transfer(u.version, bytes);
                f.insert(QStringLiteral("bytes"), bytes / 2);
                f.insert(QStringLiteral("error_code"), u.errorCode);
                end = u.offered.addMSecs(qint64(downloadSecs * 500));
                events.phase(end, QStringLiteral("upload-interrupted"), f);
                endOf.insert(endKey(id, u.offered), end.addSecs(30));
                continue;
            }
            QJsonObject upload = transfer(u.version, bytes);
            upload.insert(QStringLiteral("bytes"), bytes);
            upload.insert(QStringLiteral("duration_ms"), downloadSecs * 1000);
            upload.insert(QStringLiteral("throughput_bytes_per_s"), throughput);
            events.phase(t, QStringLiteral("upload-completed"), upload);
            if (u.outcome == DeviceState::Failed) {
                QJsonObject f = transfer(u.version, bytes);
                f.insert(QStringLiteral("error_code"), u.errorCode);
                end = t.addSecs(4);
                events.phase(end, QStringLiteral("install-failed"), f);
                endOf.insert(endKey(id, u.offered), end);
                continue;
            }
            t = t.addMSecs(qint64(installSecs * 1000));
            QJsonObject done = transfer(u.version, bytes);
            done.insert(QStringLiteral("bytes"), bytes);
            done.insert(QStringLiteral("duration_ms"), installSecs * 1000);
            events.phase(t, QStringLiteral("install-done"), done);
            events.phase(t.addSecs(1), QStringLiteral("reboot"), transfer(u.version, bytes));
            events.boot(t.addSecs(20), u.version, true);
            if (u.outcome == DeviceState::Reverted) {
                QJsonObject f = transfer(u.version, bytes);
                f.insert(QStringLiteral("error_code"), u.errorCode);
                end = t.addSecs(80);
                events.phase(end, QStringLiteral("revert"), f);
                events.boot(end.addSecs(20), running, false);
            } else {
                end = t.addSecs(45);
                events.phase(end, QStringLiteral("commit"), transfer(u.version, bytes));
                running = u.version;
            }
            endOf.insert(endKey(id, u.offered), end);
        }
    }
    if (auto stored = store.telemetry().append(telemetry); !stored)
        return stored;

    // Each attempt of each rollout: offered, downloading, then where the engine put it.
    for (const auto& [rolloutId, attempts] : std::as_const(m_rollouts)) {
        QList<store::RolloutEventRecord> moves;
        for (const SampleAttempt& a : attempts) {
            const QDateTime end = endOf.value(endKey(a.deviceId, a.offered), a.offered.addSecs(60));
            moves.append({rolloutId,
                          a.deviceId,
                          a.offered,
                          rollout::deviceStateName(DeviceState::Offered),
                          a.wave,
                          {}});
            moves.append({rolloutId,
                          a.deviceId,
                          a.offered.addSecs(2),
                          rollout::deviceStateName(DeviceState::Downloading),
                          a.wave,
                          {}});
            moves.append(
                {rolloutId, a.deviceId, end, rollout::deviceStateName(a.after), a.wave, a.reason});
        }
        if (auto stored = store.rolloutEvents().append(moves); !stored)
            return stored;
    }
    return {};
}

}  // namespace otafleet::app
