// otafleetctl station ...: the factory station of issue 10 (services/station). `run` flashes
// every unit that appears on the ports matching a pattern, side by side, optionally provisions
// each one's identity from the PKI's device CA, and records every unit in a SQLite file;
// `report` prints or exports those records with units per hour and first-pass yield; `import`
// merges another station's JSON export. Not to be confused with `pki station` (the network
// enrolment server, StationCommands.cpp).
#include "Cli.h"

#include "common/AtomicFile.h"
#include "station/RecordExport.h"
#include "station/Station.h"
#include "station/StationSession.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>

namespace otafleet::cli {
namespace {

const QCommandLineOption kPorts(QStringLiteral("ports"),
                                QStringLiteral("Ports to watch: a glob over device paths, e.g. "
                                               "'/dev/ttyACM*' or '/dev/serial/by-id/usb-Acme*'. "
                                               "Quote it so the shell leaves it alone."),
                                QStringLiteral("PATTERN"));
const QCommandLineOption kImage(QStringLiteral("image"),
                                QStringLiteral("Signed MCUboot image the MCU units get."),
                                QStringLiteral("IMAGE"));
const QCommandLineOption kBundle(
    QStringLiteral("bundle"),
    QStringLiteral("Signed otafleet bundle (.otab) for the units that run otafleet-agent (they "
                   "say so over SMP: README \"SMP on a Linux agent\"); checked against the "
                   "PKI's release trust (needs --pki). Give it with or instead of --image."),
    QStringLiteral("BUNDLE"));
const QCommandLineOption kKey(QStringLiteral("key"),
                              QStringLiteral("Release public key (PEM) the image must verify "
                                             "against before any unit gets it."),
                              QStringLiteral("PUB.pem"));
const QCommandLineOption kPki(QStringLiteral("pki"),
                              QStringLiteral("PKI directory: its release signer checks the image "
                                             "(unless --key), its device CA certifies units."),
                              QStringLiteral("PKI"));
const QCommandLineOption kProvision(QStringLiteral("provision-identity"),
                                    QStringLiteral("Have each unit make its identity key and "
                                                   "store a certificate from the PKI's device "
                                                   "CA (needs --pki)."));
const QCommandLineOption kPinEnv(QStringLiteral("pin-env"),
                                 QStringLiteral("Read the PKI token's user PIN from this "
                                                "environment variable instead of asking."),
                                 QStringLiteral("VAR"));
const QCommandLineOption kOperator(QStringLiteral("operator"),
                                   QStringLiteral("Who runs the station (recorded per unit)."),
                                   QStringLiteral("NAME"));
const QCommandLineOption kStationId(QStringLiteral("station-id"),
                                    QStringLiteral("This station's name (recorded per unit)."),
                                    QStringLiteral("ID"));
const QCommandLineOption kDb(QStringLiteral("db"),
                             QStringLiteral("Traceability database (SQLite; created if new)."),
                             QStringLiteral("FILE"));
const QCommandLineOption kUnits(QStringLiteral("units"),
                                QStringLiteral("Stop after N units (default: run until "
                                               "interrupted or --timeout)."),
                                QStringLiteral("N"));
const QCommandLineOption kTimeout(QStringLiteral("timeout"),
                                  QStringLiteral("Stop the run after D (90, 90s, 5m, 2h); units "
                                                 "still running then fail with station.timeout."),
                                  QStringLiteral("D"));
const QCommandLineOption kUnitTimeout(
    QStringLiteral("unit-timeout"),
    QStringLiteral("Fail a unit that takes longer than D from plug-in to record (90, 90s, 5m, "
                   "2h) with station.unit-timeout; the others go on."),
    QStringLiteral("D"));
const QCommandLineOption kBaud(QStringLiteral("baud"),
                               QStringLiteral("Serial baud rate (default 115200)."),
                               QStringLiteral("N"), QStringLiteral("115200"));
const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON."));
const QCommandLineOption kCsv(QStringLiteral("csv"), QStringLiteral("Print CSV."));
const QCommandLineOption kOnlyStation(QStringLiteral("station-id"),
                                      QStringLiteral("Only this station's records."),
                                      QStringLiteral("ID"));
const QCommandLineOption kOut(QStringList{QStringLiteral("o"), QStringLiteral("output")},
                              QStringLiteral("Write the export to FILE instead of stdout."),
                              QStringLiteral("FILE"));
constexpr qsizetype kMaxName = 64;

std::atomic<bool> g_interrupted{false};

void onSignal(int) {
    g_interrupted.store(true);
}

void say(const QString& line) {
    const QByteArray bytes = (QStringLiteral("station: ") + line + QLatin1Char('\n')).toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

// "90", "90s", "5m", "2h" in milliseconds; nullopt when malformed or not positive.
std::optional<qint64> parseDuration(const QString& text) {
    static const QRegularExpression shape(QStringLiteral("^(\\d{1,7})([smh]?)$"));
    const auto match = shape.match(text);
    if (!match.hasMatch()) {
        return std::nullopt;
    }
    const qint64 value = match.captured(1).toLongLong();
    const QString unit = match.captured(2);
    const qint64 seconds = unit == u"h" ? value * 3600 : unit == u"m" ? value * 60 : value;
    return seconds > 0 ? std::optional<qint64>(seconds * 1000) : std::nullopt;
}

bool isName(const QString& text) {
    return !text.isEmpty() && text.size() <= kMaxName &&
           std::all_of(text.cbegin(), text.cend(), [](QChar c) { return c.isPrint(); });
}

QString unitLabel(const QString& port, const QString& serial) {
    return serial.isEmpty() ? port : QStringLiteral("%1 [%2]").arg(port, serial);
}

QString recordLine(const station::UnitRecord& r) {
    const double seconds = double(r.startedAt.msecsTo(r.finishedAt)) / 1000.0;
    if (r.passed()) {
        return QStringLiteral("PASS %1 %2 in %3 s%4")
            .arg(r.serialNumber, r.port)
            .arg(seconds, 0, 'f', 1)
            .arg(r.certFingerprint.isEmpty()
                     ? QString()
                     : QStringLiteral(", certificate %1").arg(r.certFingerprint.left(16)));
    }
    return QStringLiteral("FAIL %1 %2 at %3: %4 [%5]")
        .arg(r.serialNumber.isEmpty() ? QStringLiteral("(no serial)") : r.serialNumber, r.port,
             r.failedStage, r.failureReason, r.failureCode);
}

QString summaryText(const station::StationSummary& s) {
    const auto percent = [](const std::optional<double>& v) {
        return v ? QStringLiteral("%1%").arg(*v * 100.0, 0, 'f', 1) : QStringLiteral("n/a");
    };
    const auto rate = [](const std::optional<double>& v) {
        return v ? QStringLiteral("%1").arg(*v, 0, 'f', 1) : QStringLiteral("n/a");
    };
    return QStringLiteral(
               "%1 units: %2 passed, %3 failed; first-pass yield %4 (%5 of %6 "
               "units); %7 units per hour (%8 passed per hour) over %9 s.")
        .arg(s.units)
        .arg(s.passed)
        .arg(s.failed)
        .arg(percent(s.firstPassYield))
        .arg(s.passedFirstTime)
        .arg(s.distinctUnits)
        .arg(rate(s.unitsPerHour), rate(s.passedPerHour))
        .arg(s.spanSeconds, 0, 'f', 1);
}

int runStationRun(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    for (const auto* option : {&kPorts, &kOperator, &kStationId, &kDb}) {
        if (!p.isSet(*option) || (!p.isSet(kImage) && !p.isSet(kBundle))) {
            return usageError(
                QStringLiteral("station run needs --ports PATTERN --image IMAGE (and/or "
                               "--bundle BUNDLE.otab) --operator NAME --station-id ID --db FILE"));
        }
    }
    if (p.isSet(kBundle) && !p.isSet(kPki)) {
        return usageError(
            QStringLiteral("--bundle needs --pki PKI (its release trust checks the bundle)"));
    }
    if (!p.isSet(kKey) && !p.isSet(kPki)) {
        return usageError(
            QStringLiteral("station run needs --key PUB.pem or --pki PKI to check "
                           "the image before any unit gets it"));
    }
    if (p.isSet(kProvision) && !p.isSet(kPki)) {
        return usageError(
            QStringLiteral("--provision-identity needs --pki PKI (its device CA "
                           "certifies the units)"));
    }
    if (!isName(p.value(kOperator)) || !isName(p.value(kStationId))) {
        return usageError(
            QStringLiteral("--operator and --station-id take 1 to 64 printable "
                           "characters"));
    }
    bool ok = true;
    const int units = p.isSet(kUnits) ? p.value(kUnits).toInt(&ok) : 0;
    if (!ok || units < 0) {
        return usageError(QStringLiteral("--units takes a number of units"));
    }
    const int baud = p.value(kBaud).toInt(&ok);
    if (!ok || baud <= 0) {
        return usageError(QStringLiteral("--baud takes a positive rate"));
    }
    std::optional<qint64> timeoutMs;
    if (p.isSet(kTimeout)) {
        timeoutMs = parseDuration(p.value(kTimeout));
        if (!timeoutMs) {
            return usageError(QStringLiteral("--timeout takes a duration: 90, 90s, 5m or 2h"));
        }
    }
    qint64 unitTimeoutMs = 0;
    if (p.isSet(kUnitTimeout)) {
        const auto parsed = parseDuration(p.value(kUnitTimeout));
        if (!parsed) {
            return usageError(QStringLiteral("--unit-timeout takes a duration: 90, 90s, 5m or 2h"));
        }
        unitTimeoutMs = *parsed;
    }

    station::StationRequest request;
    request.portPattern = p.value(kPorts);
    request.imagePath = p.value(kImage);
    request.bundlePath = p.value(kBundle);
    request.releaseKeyPath = p.value(kKey);
    request.pkiDirectory = p.value(kPki);
    request.provisionIdentity = p.isSet(kProvision);
    request.pin = pinProvider(p.value(kPinEnv), QStringLiteral("the PKI token"));
    request.operatorName = p.value(kOperator);
    request.stationId = p.value(kStationId);
    request.databasePath = p.value(kDb);
    request.maxUnits = units;
    request.baud = baud;
    request.unitTimeoutMs = unitTimeoutMs;
    auto session = station::StationSession::open(request);
    if (!session) {
        return failWith(session.error(), json);
    }
    station::Station& station = (*session)->station();
    const station::UnitJob& job = (*session)->job();

    QHash<QString, int> lastQuarter;
    std::optional<Error> storeError;
    QObject::connect(&station, &station::Station::unitStarted, &station,
                     [](const QString& port) { say(QStringLiteral("%1: unit found").arg(port)); });
    QObject::connect(&station, &station::Station::unitStage, &station,
                     [](const QString& port, const QString& serial, const QString& stage) {
                         say(QStringLiteral("%1: %2").arg(unitLabel(port, serial), stage));
                     });
    QObject::connect(&station, &station::Station::unitProgress, &station,
                     [&lastQuarter](const QString& port, qint64 done, qint64 total) {
                         const int quarter = total > 0 ? int(done * 4 / total) : 0;
                         if (quarter > lastQuarter.value(port, 0) && quarter < 4) {
                             lastQuarter[port] = quarter;
                             say(QStringLiteral("%1: upload %2%").arg(port).arg(quarter * 25));
                         }
                     });
    QObject::connect(&station, &station::Station::unitFinished, &station,
                     [&lastQuarter](const station::UnitRecord& r) {
                         lastQuarter.remove(r.port);
                         say(recordLine(r));
                     });
    QObject::connect(&station, &station::Station::storeFailed, &station,
                     [&storeError](const Error& error) {
                         storeError = error;
                         say(error.toString());
                     });

    QEventLoop loop;
    QObject::connect(&station, &station::Station::finished, &loop, &QEventLoop::quit);
    g_interrupted.store(false);
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    QTimer watch;
    watch.setInterval(100);
    QElapsedTimer clock;
    clock.start();
    QObject::connect(&watch, &QTimer::timeout, &station, [&] {
        if (g_interrupted.load()) {
            watch.stop();
            say(QStringLiteral("interrupted; ending the units still running"));
            station.stop(Error{QStringLiteral("station.interrupted"),
                               QStringLiteral("The station run was interrupted while this unit "
                                              "was in progress; run the unit again.")});
        } else if (timeoutMs && clock.elapsed() >= *timeoutMs) {
            watch.stop();
            say(QStringLiteral("--timeout reached; ending the units still running"));
            station.stop(Error{QStringLiteral("station.timeout"),
                               QStringLiteral("The station run reached its --timeout of %1 while "
                                              "this unit was in progress; run it again.")
                                   .arg(p.value(kTimeout))});
        }
    });
    watch.start();
    QStringList payloads;
    if (!job.image.isEmpty()) {
        payloads.append(QStringLiteral("image %1, %2, hash %3")
                            .arg(job.imageVersion, formatBytes(job.image.size()),
                                 QString::fromLatin1(job.imageHash.toHex().left(16))));
    }
    if (!job.bundle.isEmpty()) {
        payloads.append(QStringLiteral("bundle %1, %2, hash %3")
                            .arg(job.bundleVersion, formatBytes(job.bundle.size()),
                                 QString::fromLatin1(job.bundleHash.toHex().left(16))));
    }
    say(QStringLiteral("watching %1 for units (%2)%3")
            .arg(request.portPattern, payloads.join(QStringLiteral("; ")),
                 units > 0 ? QStringLiteral("; stops after %1 units").arg(units) : QString()));
    station.start();
    loop.exec();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);

    const QList<station::UnitRecord>& records = station.records();
    const station::StationSummary summary = station::summarize(records);
    const bool shortOfUnits = units > 0 && records.size() < units;
    if (json) {
        QJsonArray array;
        for (const auto& r : records) {
            array.append(station::recordJson(r));
        }
        QJsonObject report{
            {QStringLiteral("station_id"), job.stationId},
            {QStringLiteral("operator"), job.operatorName},
            {QStringLiteral("image_hash"), QString::fromLatin1(job.imageHash.toHex())},
            {QStringLiteral("image_version"), job.imageVersion},
            {QStringLiteral("records"), array},
            {QStringLiteral("summary"), station::summaryJson(summary)}};
        if (!job.bundle.isEmpty()) {
            report.insert(QStringLiteral("bundle_hash"),
                          QString::fromLatin1(job.bundleHash.toHex()));
            report.insert(QStringLiteral("bundle_version"), job.bundleVersion);
        }
        printJson(report);
    } else {
        QStringList lines;
        for (const auto& r : records) {
            lines.append(recordLine(r));
        }
        lines.append(summaryText(summary));
        printText(lines.join(QLatin1Char('\n')));
    }
    if (storeError) {
        printError(
            storeError->withContext(QStringLiteral("some records are missing from the "
                                                   "database")));
        return kFailure;
    }
    if (shortOfUnits) {
        printError(Error{QStringLiteral("station.units-missing"),
                         QStringLiteral("Only %1 of the %2 units asked for were run; check that "
                                        "--ports matches every unit's port.")
                             .arg(records.size())
                             .arg(units)});
        return kFailure;
    }
    return summary.failed > 0 ? kFailure : kSuccess;
}

int runStationReport(const QCommandLineParser& p) {
    if (!p.isSet(kDb)) {
        return usageError(QStringLiteral("station report needs --db FILE"));
    }
    if (p.isSet(kJson) && p.isSet(kCsv)) {
        return usageError(QStringLiteral("choose one of --json and --csv"));
    }
    if (!QFileInfo::exists(p.value(kDb))) {
        return failWith(Error{QStringLiteral("station.db-missing"),
                              QStringLiteral("There is no station database %1; give the --db "
                                             "FILE that 'station run' wrote.")
                                  .arg(p.value(kDb))},
                        p.isSet(kJson));
    }
    auto store = station::TraceStore::open(p.value(kDb));
    if (!store) {
        return failWith(store.error(), p.isSet(kJson));
    }
    const auto records = store->records(p.value(kOnlyStation));
    if (!records) {
        return failWith(records.error(), p.isSet(kJson));
    }
    QByteArray out;
    if (p.isSet(kJson)) {
        out = station::exportJson(*records);
    } else if (p.isSet(kCsv)) {
        out = station::exportCsv(*records);
    } else {
        QStringList lines;
        for (const auto& r : *records) {
            lines.append(QStringLiteral("%1  %2  %3  %4")
                             .arg(station::timeText(r.startedAt), r.stationId, r.operatorName,
                                  recordLine(r)));
        }
        lines.append(summaryText(station::summarize(*records)));
        out = (lines.join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8();
    }
    if (p.isSet(kOut)) {
        if (const Status written = writeFileAtomically(p.value(kOut), out); !written) {
            return failWith(written.error());
        }
        return kSuccess;
    }
    std::fwrite(out.constData(), 1, size_t(out.size()), stdout);
    std::fflush(stdout);
    return kSuccess;
}

int runStationImport(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    if (p.positionalArguments().size() != 1 || !p.isSet(kDb)) {
        return usageError(
            QStringLiteral("station import takes one FILE (a 'station report "
                           "--json' export) and --db FILE"));
    }
    const QString path = p.positionalArguments().first();
    const auto bytes = readFileBounded(path, station::kMaxImportBytes);
    if (!bytes) {
        return failWith(bytes.error(), json);
    }
    const auto records = station::parseRecordsJson(*bytes);
    if (!records) {
        return failWith(records.error().withContext(path), json);
    }
    auto store = station::TraceStore::open(p.value(kDb));
    if (!store) {
        return failWith(store.error(), json);
    }
    const auto added = store->merge(*records);
    if (!added) {
        return failWith(added.error(), json);
    }
    if (json) {
        printJson(QJsonObject{{QStringLiteral("records"), int(records->size())},
                              {QStringLiteral("imported"), *added},
                              {QStringLiteral("already_present"), int(records->size()) - *added}});
    } else {
        printText(QStringLiteral("Imported %1 of %2 records (%3 were already in %4).")
                      .arg(*added)
                      .arg(records->size())
                      .arg(records->size() - *added)
                      .arg(p.value(kDb)));
    }
    return kSuccess;
}

}  // namespace

QList<Command> factoryStationCommands() {
    return {
        Command{
            QStringLiteral("station"), QStringLiteral("run"),
            QStringLiteral("Flash (and with --provision-identity certify) every unit that "
                           "appears on the ports, side by side, recording each one."),
            QStringLiteral("--ports PATTERN (--image IMAGE | --bundle BUNDLE.otab | both) "
                           "(--key PUB.pem | --pki PKI) "
                           "[--provision-identity --pki PKI --pin-env VAR] --operator NAME "
                           "--station-id ID --db FILE [--units N] [--timeout D] [--unit-timeout D] "
                           "[--json]"),
            [](QCommandLineParser& p) {
                p.addOptions({kPorts, kImage, kBundle, kKey, kPki, kProvision, kPinEnv, kOperator,
                              kStationId, kDb, kUnits, kTimeout, kUnitTimeout, kBaud, kJson});
            },
            runStationRun},
        Command{QStringLiteral("station"), QStringLiteral("report"),
                QStringLiteral("Print or export the station records with units per hour and "
                               "first-pass yield."),
                QStringLiteral("--db FILE [--csv | --json] [--station-id ID] [-o FILE]"),
                [](QCommandLineParser& p) {
                    p.addOptions({kDb, kCsv, kJson, kOnlyStation, kOut});
                },
                runStationReport},
        Command{QStringLiteral("station"), QStringLiteral("import"),
                QStringLiteral("Merge another station's records (a 'station report --json' "
                               "export) into a database."),
                QStringLiteral("FILE --db FILE"),
                [](QCommandLineParser& p) {
                    p.addOptions({kDb, kJson});
                    p.addPositionalArgument(QStringLiteral("file"),
                                            QStringLiteral("JSON export to merge."));
                },
                runStationImport},
    };
}

}  // namespace otafleet::cli
