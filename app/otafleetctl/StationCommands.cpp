// otafleetctl pki station: the factory station's enrolment server (enroll/EnrollmentStation.h).
// Devices run 'otafleet-agent enroll --station HOST:PORT' against it; it prints one line (or one
// JSON object) per issued certificate on stdout and each refusal on stderr.
#include "Cli.h"

#include "crypto/SecretString.h"
#include "enroll/EnrollmentStation.h"

#include <QJsonDocument>

#include <cstdio>
#include <mutex>

namespace otafleet::cli {
namespace {

const QCommandLineOption kPki(QStringLiteral("pki"),
                              QStringLiteral("PKI directory made by 'pki init'; its device CA "
                                             "signs, its server CA certifies the station."),
                              QStringLiteral("PKI"));
const QCommandLineOption kListen(QStringLiteral("listen"),
                                 QStringLiteral("Address to serve on, HOST:PORT (port 0: any "
                                                "free port; the chosen one is printed)."),
                                 QStringLiteral("HOST:PORT"));
const QCommandLineOption kSan(QStringLiteral("san"),
                              QStringLiteral("Names or IP addresses devices dial the station by, "
                                             "comma-separated or repeated (default: the listen "
                                             "host; for 0.0.0.0 the host name, localhost and "
                                             "127.0.0.1)."),
                              QStringLiteral("NAME[,NAME]"));
const QCommandLineOption kTokenEnv(
    QStringLiteral("token-env"),
    QStringLiteral("Environment variable holding the enrolment token devices must present "
                   "(default OTAFLEET_ENROLL_TOKEN)."),
    QStringLiteral("VAR"), QStringLiteral("OTAFLEET_ENROLL_TOKEN"));
const QCommandLineOption kPinEnv(QStringLiteral("pin-env"),
                                 QStringLiteral("Read the PKI token's user PIN from this "
                                                "environment variable instead of asking."),
                                 QStringLiteral("VAR"));
const QCommandLineOption kOnce(QStringLiteral("once"),
                               QStringLiteral("Stop after one device is enrolled (a one-time "
                                              "token)."));
const QCommandLineOption kMax(QStringLiteral("max"),
                              QStringLiteral("Stop after N devices are enrolled."),
                              QStringLiteral("N"));
const QCommandLineOption kDays(QStringLiteral("days"),
                               QStringLiteral("Validity of device certificates in days (default: "
                                              "the PKI's, 3650)."),
                               QStringLiteral("N"));
const QCommandLineOption kJson(QStringLiteral("json"),
                               QStringLiteral("Print one JSON object per enrolled device."));

int runStation(const QCommandLineParser& p) {
    const bool json = p.isSet(kJson);
    if (!p.isSet(kPki) || !p.isSet(kListen)) {
        return usageError(QStringLiteral("pki station needs --pki PKI --listen HOST:PORT"));
    }
    enroll::StationOptions options;
    options.pkiDirectory = p.value(kPki);
    options.listen = p.value(kListen);
    for (const QString& value : p.values(kSan)) {
        options.subjectAltNames += value.split(QLatin1Char(','), Qt::SkipEmptyParts);
    }
    bool ok = true;
    if (p.isSet(kMax)) {
        options.maxEnrolments = p.value(kMax).toInt(&ok);
        if (!ok || options.maxEnrolments < 1) {
            return usageError(QStringLiteral("--max takes a positive number of devices"));
        }
    }
    if (p.isSet(kOnce)) {
        options.maxEnrolments = 1;
    }
    if (p.isSet(kDays)) {
        options.validityDays = p.value(kDays).toInt(&ok);
        if (!ok || options.validityDays < 1 || options.validityDays > 36500) {
            return usageError(QStringLiteral("--days takes a number of days from 1 to 36500"));
        }
    }
    auto token = crypto::SecretString::fromEnvironment(p.value(kTokenEnv));
    if (!token) {
        return failWith(Error{QStringLiteral("station.token-missing"),
                              QStringLiteral("A station needs an enrolment token so that it does "
                                             "not sign requests from anyone on the line; set %1 "
                                             "(or pass --token-env VAR).")
                                  .arg(p.value(kTokenEnv))},
                        json);
    }
    options.token = QByteArray(token->c_str(), token->size());
    options.pin = pinProvider(p.value(kPinEnv), QStringLiteral("the PKI token"));
    std::mutex printing;
    enroll::StationEvents events;
    events.enrolled = [&](const enroll::EnrolledDevice& d) {
        const std::lock_guard lock(printing);
        if (json) {
            const QJsonObject object{
                {QStringLiteral("device_id"), d.deviceId},
                {QStringLiteral("entry"), d.entryName},
                {QStringLiteral("serial"), d.serial},
                {QStringLiteral("not_after"), d.notAfter.toString(Qt::ISODate)},
                {QStringLiteral("model"), d.model},
                {QStringLiteral("hardware"), d.hardware},
                {QStringLiteral("key_type"), d.keyType},
                {QStringLiteral("peer"), d.peer},
                {QStringLiteral("repeated"), d.repeated}};
            printText(QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact)));
        } else {
            printText(QStringLiteral("%1 %2 serial %3 until %4 model %5 hardware %6 key %7 "
                                     "entry %8 from %9")
                          .arg(d.repeated ? QStringLiteral("re-sent") : QStringLiteral("enrolled"),
                               d.deviceId, d.serial, d.notAfter.toString(Qt::ISODate),
                               d.model.isEmpty() ? QStringLiteral("-") : d.model,
                               d.hardware.isEmpty() ? QStringLiteral("-") : d.hardware, d.keyType,
                               d.entryName, d.peer));
        }
    };
    events.refused = [&](const QString& peer, const Error& error) {
        const std::lock_guard lock(printing);
        std::fprintf(stderr, "otafleetctl: refused %s: %s\n", qPrintable(peer),
                     qPrintable(error.toString()));
        std::fflush(stderr);
    };
    auto station = enroll::EnrollmentStation::start(options, std::move(events));
    options.token.fill('\0');
    if (!station) {
        return failWith(station.error(), json);
    }
    std::fprintf(stderr, "otafleetctl: station listening on %s\n",
                 qPrintable((*station)->address()));
    std::fflush(stderr);
    (*station)->wait();
    return kSuccess;
}

}  // namespace

QList<Command> stationCommands() {
    return {Command{
        QStringLiteral("pki"),
        QStringLiteral("station"),
        QStringLiteral("Factory station: enrol devices ('otafleet-agent enroll') over "
                       "TLS 1.3 (only) with an enrolment token; the device CA signs their "
                       "certificate requests."),
        {},
        [](QCommandLineParser& p) {
            p.addOptions({kPki, kListen, kSan, kTokenEnv, kPinEnv, kOnce, kMax, kDays, kJson});
        },
        runStation}};
}

}  // namespace otafleet::cli
