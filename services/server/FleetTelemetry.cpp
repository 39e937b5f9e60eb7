#include "server/FleetTelemetry.h"

#include "fleet/TelemetryReport.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <map>

namespace otafleet::server {
namespace {

namespace cpb = otafleet::console::v1;
namespace dpb = otafleet::device::v1;
namespace apb = otafleet::agent::v1;

constexpr qint64 kHourMs = 3600 * 1000;
constexpr qsizetype kMaxFilterText = 128;

std::string str(const QString& s) {
    return s.toStdString();
}

// EVENT_PHASE_INSTALL_DONE -> "install-done", the name `otafleetctl device events` uses too.
QString phaseName(apb::EventPhase phase) {
    QString name = QString::fromStdString(apb::EventPhase_Name(phase));
    name.remove(QStringLiteral("EVENT_PHASE_"));
    return name.toLower().replace(u'_', u'-');
}

// Error codes that mean someone tampered with a slot, or that a signature did not hold.
const QStringList kTamperCodes{QStringLiteral("agent.tamper-detected")};
const QStringList kSignatureCodes{QStringLiteral("bundle.untrusted-signer"),
                                  QStringLiteral("crypto.untrusted-signer"),
                                  QStringLiteral("crypto.certificate-untrusted")};
const QStringList kSignaturePrefixes{QStringLiteral("crypto.signature-"),
                                     QStringLiteral("crypto.signer-")};

void addDeviceAnomalies(const QList<store::DeviceEventRow>& rows, const QString& kind,
                        const QString& what, cpb::AnomalyList* reply) {
    for (const store::DeviceEventRow& row : rows) {
        cpb::Anomaly* a = reply->add_anomalies();
        a->set_kind(str(kind));
        a->set_device_id(str(row.deviceId));
        a->set_model(str(row.model));
        a->set_version(str(row.version));
        a->set_devices(1);
        a->set_time_unix_ms(row.time.toMSecsSinceEpoch());
        a->set_detail(str(QStringLiteral("Device %1 reported %2 (%3 during %4); check it before "
                                         "it takes another update.")
                              .arg(row.deviceId, what, row.errorCode, row.event)));
    }
}

}  // namespace

std::optional<store::DeviceTelemetryRecord> telemetryRecord(const TelemetryOrigin& origin,
                                                            const dpb::TelemetryEvent& message) {
    if (!message.has_event())
        return std::nullopt;
    const apb::Event& e = message.event();
    store::DeviceTelemetryRecord r;
    r.deviceId = origin.deviceId;
    r.seq = e.seq() ? e.seq() : message.seq();
    const qint64 ms = e.time_unix_ms() ? e.time_unix_ms() : message.time_unix_ms();
    r.time = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
    if (r.seq == 0 || ms <= 0 || !r.time.isValid())
        return std::nullopt;
    r.model = origin.model;
    r.hardware = origin.hardware;
    r.version = origin.version;
    const auto versionOr = [&](const std::string& v) {
        if (!v.empty())
            r.version = QString::fromStdString(v);
    };
    switch (e.kind_case()) {
        case apb::Event::kPhase: {
            const apb::PhaseEvent& p = e.phase();
            r.event = phaseName(p.phase());
            versionOr(p.version());
            r.errorCode = QString::fromStdString(p.error_code());
            r.durationMs = p.duration_ms();
            r.bytes = p.bytes();
            r.throughput = p.throughput_bytes_per_s();
            break;
        }
        case apb::Event::kBoot:
            r.event = QStringLiteral("boot");
            versionOr(e.boot().version());
            r.errorCode = QString::fromStdString(e.boot().error_code());
            r.durationMs = e.boot().start_to_serving_ms();
            break;
        case apb::Event::kHealth:
            r.event = e.health().ok() ? QStringLiteral("health") : QStringLiteral("health-failed");
            versionOr(e.health().version());
            r.durationMs = e.health().duration_ms();
            break;
        case apb::Event::kMetrics:
            r.event = QStringLiteral("metrics");
            break;
        case apb::Event::kDropped:
            r.event = QStringLiteral("dropped");
            r.bytes = e.dropped().count();
            break;
        case apb::Event::KIND_NOT_SET:
            return std::nullopt;
    }
    return r;
}

Result<store::TelemetryQuery> telemetryQuery(const cpb::TelemetryReportRequest& r,
                                             const QDateTime& now) {
    const qint64 until = r.until_unix_ms() ? r.until_unix_ms() : now.toMSecsSinceEpoch();
    const qint64 since = r.since_unix_ms() ? r.since_unix_ms() : until - 24 * kHourMs;
    if (since < 0 || until <= since || until - since > kMaxTelemetryRangeMs) {
        return fail(QStringLiteral("server.invalid-range"),
                    QStringLiteral("A telemetry report covers up to 31 days, from a time before "
                                   "its end; narrow --since or --until."));
    }
    if (r.model().size() > kMaxFilterText || r.version().size() > kMaxFilterText) {
        return fail(QStringLiteral("server.invalid-range"),
                    QStringLiteral("A model or version to report on has at most %1 characters.")
                        .arg(kMaxFilterText));
    }
    store::TelemetryQuery q;
    q.since = QDateTime::fromMSecsSinceEpoch(since, Qt::UTC);
    q.until = QDateTime::fromMSecsSinceEpoch(until, Qt::UTC);
    q.model = QString::fromStdString(r.model());
    q.version = QString::fromStdString(r.version());
    return q;
}

Status fillTelemetryReport(store::FleetStore& store, const store::TelemetryQuery& query,
                           cpb::TelemetryReportReply* reply) {
    auto buckets = store.deviceTelemetry().hourly(query);
    if (!buckets)
        return fail(buckets.error());
    quint64 events = 0;
    for (const store::TelemetryBucketRow& b : *buckets) {
        cpb::TelemetryBucket* out = reply->add_buckets();
        out->set_hour_unix_ms(b.hour.toMSecsSinceEpoch());
        out->set_model(str(b.model));
        out->set_hardware(str(b.hardware));
        out->set_version(str(b.version));
        out->set_event(str(b.event));
        out->set_count(quint64(b.count));
        out->set_devices(quint64(b.devices));
        out->set_avg_duration_ms(b.avgDurationMs);
        out->set_bytes(quint64(b.bytes));
        out->set_avg_throughput_bytes_per_s(b.avgThroughput);
        events += quint64(b.count);
    }
    reply->set_events(events);
    auto reasons = store.deviceTelemetry().failureReasons(query);
    if (!reasons)
        return fail(reasons.error());
    for (const store::ReasonRow& r : *reasons) {
        cpb::ReasonCount* out = reply->add_failure_reasons();
        out->set_error_code(str(r.errorCode));
        out->set_count(quint64(r.count));
        out->set_devices(quint64(r.devices));
    }
    return {};
}

namespace {

constexpr double kBytesPerMegabyte = 1e6;
constexpr double kMsPerSecond = 1000.0;

void fillHistogram(const fleet::Histogram& h, cpb::Histogram* out) {
    out->set_lower(h.lower);
    out->set_bin_width(h.binWidth);
    for (const qint64 c : h.counts)
        out->add_counts(quint64(c));
    out->set_samples(quint64(h.samples));
}

}  // namespace

Status fillTelemetryCharts(store::FleetStore& store, const store::TelemetryQuery& query,
                           qint64 rolloutId, cpb::TelemetryReportReply* reply) {
    auto samples = store.deviceTelemetry().samples(
        query,
        {QStringLiteral("upload-completed"), QStringLiteral("install-done"), QStringLiteral("boot"),
         QStringLiteral("commit"), QStringLiteral("health")},
        kMaxChartSamples + 1);
    if (!samples)
        return fail(samples.error());
    if (samples->size() > kMaxChartSamples) {
        samples->removeLast();
        reply->set_samples_cut(true);
    }
    // Sightings are keyed by device; the store's ids are text, the arithmetic's numbers.
    QHash<QString, qint64> numbers;
    const auto number = [&numbers](const QString& id) {
        qint64& n = numbers[id];
        if (n == 0)
            n = numbers.size();
        return n;
    };
    QList<double> throughput;
    QList<double> installSeconds;
    QList<fleet::VersionSighting> sightings;
    for (const store::DeviceTelemetryRecord& r : std::as_const(*samples)) {
        if (r.event == u"upload-completed") {
            if (r.throughput > 0)
                throughput.append(r.throughput / kBytesPerMegabyte);
        } else if (r.event == u"install-done") {
            if (r.durationMs > 0)
                installSeconds.append(double(r.durationMs) / kMsPerSecond);
        } else if (!r.version.isEmpty()) {
            sightings.append({number(r.deviceId), r.time, r.version});
        }
    }
    // What every device ran when it was last seen (in the range), read one at a time.
    int seen = 0;
    auto scanned = store.fleetDevices().scan({}, [&](const store::FleetDeviceRecord& d) {
        if (!d.decommissioned && !d.version.isEmpty() && d.lastSeen.isValid() &&
            d.lastSeen < query.until) {
            sightings.append({number(d.deviceId), d.lastSeen, d.version});
        }
        if (++seen < kMaxChartSamples)
            return true;
        reply->set_samples_cut(true);
        return false;
    });
    if (!scanned)
        return fail(scanned.error());
    const int days = int(std::max<qint64>(1, query.since.daysTo(query.until) + 1));
    const fleet::VersionAdoption adoption =
        fleet::versionAdoption(std::move(sightings), query.until, days);
    for (const QDateTime& day : adoption.days)
        reply->add_adoption_days_unix_ms(day.toMSecsSinceEpoch());
    for (const fleet::AdoptionSeries& series : adoption.series) {
        cpb::AdoptionSeries* out = reply->add_adoption();
        out->set_version(str(series.version));
        for (const qint64 n : series.devices)
            out->add_devices(quint64(n));
    }
    fillHistogram(fleet::histogram(throughput), reply->mutable_throughput_mbps());
    fillHistogram(fleet::histogram(installSeconds), reply->mutable_install_seconds());

    if (rolloutId > 0) {
        auto reasons = store.rollouts().failedReasons(rolloutId);
        if (!reasons)
            return fail(reasons.error());
        // Counted by the code before the reason's ':' as fleet::failureReasons() counts them.
        std::map<QString, qint64> byCode;
        for (const auto& [reason, devices] : std::as_const(*reasons)) {
            QString code = reason.section(u':', 0, 0).trimmed();
            byCode[code.isEmpty() ? QStringLiteral("(no reason)") : code] += devices;
        }
        QList<std::pair<QString, qint64>> sorted(byCode.begin(), byCode.end());
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const auto& a, const auto& b) { return a.second > b.second; });
        for (const auto& [code, devices] : std::as_const(sorted)) {
            cpb::ReasonCount* out = reply->add_rollout_failure_reasons();
            out->set_error_code(str(code));
            out->set_count(quint64(devices));
            out->set_devices(quint64(devices));
        }
    }
    reply->set_charts(true);
    return {};
}

Status fillAnomalies(store::FleetStore& store, const QDateTime& now, cpb::AnomalyList* reply) {
    // A spike: the last hour against the day before it.
    const QDateTime hourAgo = now.addMSecs(-kHourMs);
    auto recent = store.deviceTelemetry().outcomes(hourAgo, now);
    auto before = store.deviceTelemetry().outcomes(hourAgo.addMSecs(-24 * kHourMs), hourAgo);
    if (!recent)
        return fail(recent.error());
    if (!before)
        return fail(before.error());
    const double rate = recent->finished ? double(recent->failed) / double(recent->finished) : 0;
    const double baseline =
        before->finished ? double(before->failed) / double(before->finished) : 0;
    if (recent->failed >= kSpikeMinFailures && rate > kSpikeMinRate &&
        rate > kSpikeFactor * baseline) {
        cpb::Anomaly* a = reply->add_anomalies();
        a->set_kind("failure-spike");
        a->set_devices(quint64(recent->failed));
        a->set_time_unix_ms(now.toMSecsSinceEpoch());
        a->set_detail(str(QStringLiteral("%1 of %2 updates in the last hour failed (%3%), against "
                                         "%4% in the day before; pause the rollouts running and "
                                         "look at the failure reasons.")
                              .arg(recent->failed)
                              .arg(recent->finished)
                              .arg(qRound(rate * 100))
                              .arg(qRound(baseline * 100))));
    }

    auto tampered = store.deviceTelemetry().latestWithError(kTamperCodes, {});
    if (!tampered)
        return fail(tampered.error());
    addDeviceAnomalies(*tampered, QStringLiteral("tampered-slot"),
                       QStringLiteral("a slot that does not match its signed manifest"), reply);
    auto signatures = store.deviceTelemetry().latestWithError(kSignatureCodes, kSignaturePrefixes);
    if (!signatures)
        return fail(signatures.error());
    addDeviceAnomalies(*signatures, QStringLiteral("signature-failure"),
                       QStringLiteral("an update whose signature did not hold"), reply);

    // Versions no release explains: what devices run, against what the server has released.
    auto summary = store.fleetDevices().summary();
    if (!summary)
        return fail(summary.error());
    auto releases = store.releases().all();
    if (!releases)
        return fail(releases.error());
    QSet<QString> released;
    for (const store::ReleaseRecord& r : *releases)
        released.insert(r.product + u'\n' + r.version);
    for (const store::VersionCount& v : summary->versions) {
        if (v.version.isEmpty() || released.contains(v.model + u'\n' + v.version))
            continue;
        cpb::Anomaly* a = reply->add_anomalies();
        a->set_kind("unexplained-version");
        a->set_model(str(v.model));
        a->set_version(str(v.version));
        a->set_devices(quint64(v.devices));
        a->set_detail(str(QStringLiteral("%1 %2 device(s) (%3) run %4, which no release on this "
                                         "server is; upload the release they run or find out "
                                         "who flashed them.")
                              .arg(v.devices)
                              .arg(v.model, v.hardware, v.version)));
    }
    return {};
}

}  // namespace otafleet::server
