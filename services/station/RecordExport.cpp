#include "station/RecordExport.h"

#include "common/Csv.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>
#include <QTimeZone>

#include <algorithm>

namespace otafleet::station {
namespace {

struct Field {
    const char* key;
    QString UnitRecord::*member;
    qsizetype maxLength;
};

// Every text field of a record, in export order (times and result are handled apart).
const Field kTextFields[] = {
    {"id", &UnitRecord::id, kMaxField},
    {"serial_number", &UnitRecord::serialNumber, kMaxField},
    {"port", &UnitRecord::port, kMaxField},
    {"image_hash", &UnitRecord::imageHash, kMaxField},
    {"image_version", &UnitRecord::imageVersion, kMaxField},
    {"cert_fingerprint", &UnitRecord::certFingerprint, kMaxField},
    {"station_id", &UnitRecord::stationId, kMaxField},
    {"operator", &UnitRecord::operatorName, kMaxField},
    {"failed_stage", &UnitRecord::failedStage, kMaxField},
    {"failure_code", &UnitRecord::failureCode, kMaxField},
    {"failure_reason", &UnitRecord::failureReason, kMaxReason},
};

QString key(const char* name) {
    return QString::fromLatin1(name);
}

Error invalid(qsizetype index, const QString& what) {
    return Error{QStringLiteral("station.import-invalid"),
                 QStringLiteral("Record %1 of the import %2; import only files that "
                                "'otafleetctl station report --json' wrote.")
                     .arg(index + 1)
                     .arg(what)};
}

std::optional<QDateTime> parseTime(const QString& text) {
    static const QRegularExpression shape(
        QStringLiteral("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$"));
    if (!shape.match(text).hasMatch()) {
        return std::nullopt;
    }
    const QDateTime time = QDateTime::fromString(text, Qt::ISODateWithMs);
    constexpr int kFirstYear = 1970;
    if (!time.isValid() || time.date().year() < kFirstYear) {
        return std::nullopt;
    }
    return time.toUTC();
}

bool isHex(const QString& text, qsizetype length) {
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]*$"));
    return text.size() == length && hex.match(text).hasMatch();
}

Result<UnitRecord> parseRecord(const QJsonValue& value, qsizetype index) {
    if (!value.isObject()) {
        return fail(invalid(index, QStringLiteral("is not an object")));
    }
    const QJsonObject object = value.toObject();
    UnitRecord r;
    for (const Field& field : kTextFields) {
        const QJsonValue v = object.value(key(field.key));
        if (!v.isString() || v.toString().size() > field.maxLength) {
            return fail(invalid(index, QStringLiteral("has no \"%1\" text of at most %2 characters")
                                           .arg(key(field.key))
                                           .arg(field.maxLength)));
        }
        const QString text = v.toString();
        // No lone surrogates (they would not survive a round trip) and no control characters
        // (an escape sequence in a serial number would reach the operator's terminal).
        if (!QStringView(text).isValidUtf16() ||
            std::any_of(text.cbegin(), text.cend(),
                        [](QChar c) { return c.category() == QChar::Other_Control; })) {
            return fail(invalid(index, QStringLiteral("has control characters or broken UTF-16 "
                                                      "in \"%1\"")
                                           .arg(key(field.key))));
        }
        r.*(field.member) = text;
    }
    static const QRegularExpression uuid(
        QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"));
    if (!uuid.match(r.id).hasMatch()) {
        return fail(invalid(index, QStringLiteral("has an \"id\" that is not a lower-case UUID")));
    }
    if (r.stationId.isEmpty() || r.operatorName.isEmpty()) {
        return fail(invalid(index, QStringLiteral("names no station or operator")));
    }
    constexpr qsizetype kSha256Hex = 64;
    if (!isHex(r.imageHash, kSha256Hex) ||
        !(r.certFingerprint.isEmpty() || isHex(r.certFingerprint, kSha256Hex))) {
        return fail(invalid(
            index, QStringLiteral("has an image hash or certificate fingerprint that is not 64 "
                                  "lower-case hex digits")));
    }
    const auto started = parseTime(object.value(QStringLiteral("started_at")).toString());
    const auto finished = parseTime(object.value(QStringLiteral("finished_at")).toString());
    if (!started || !finished || *finished < *started) {
        return fail(invalid(index, QStringLiteral("has no ISO 8601 UTC \"started_at\" and "
                                                  "\"finished_at\" in that order")));
    }
    r.startedAt = *started;
    r.finishedAt = *finished;
    r.result = object.value(QStringLiteral("result")).toString();
    const bool failed = r.result == QLatin1String(kResultFail);
    if (!r.passed() && !failed) {
        return fail(invalid(index, QStringLiteral("has a \"result\" other than pass or fail")));
    }
    const bool hasFailure =
        !r.failureCode.isEmpty() || !r.failedStage.isEmpty() || !r.failureReason.isEmpty();
    if (failed != hasFailure || (failed && r.failureCode.isEmpty())) {
        return fail(invalid(index, QStringLiteral("fails without a failure code, or passes with "
                                                  "one")));
    }
    return r;
}

}  // namespace

QString timeText(const QDateTime& time) {
    return time.toUTC().toString(Qt::ISODateWithMs);
}

QJsonObject recordJson(const UnitRecord& record) {
    QJsonObject object;
    for (const Field& field : kTextFields) {
        object.insert(key(field.key), record.*(field.member));
    }
    object.insert(QStringLiteral("started_at"), timeText(record.startedAt));
    object.insert(QStringLiteral("finished_at"), timeText(record.finishedAt));
    object.insert(QStringLiteral("result"), record.result);
    return object;
}

QJsonObject summaryJson(const StationSummary& s) {
    QJsonObject failures;
    for (auto it = s.failuresByCode.cbegin(); it != s.failuresByCode.cend(); ++it) {
        failures.insert(it.key(), it.value());
    }
    const auto optional = [](const std::optional<double>& value) {
        return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
    };
    return QJsonObject{{QStringLiteral("units"), s.units},
                       {QStringLiteral("passed"), s.passed},
                       {QStringLiteral("failed"), s.failed},
                       {QStringLiteral("distinct_units"), s.distinctUnits},
                       {QStringLiteral("passed_first_time"), s.passedFirstTime},
                       {QStringLiteral("first_pass_yield"), optional(s.firstPassYield)},
                       {QStringLiteral("units_per_hour"), optional(s.unitsPerHour)},
                       {QStringLiteral("passed_per_hour"), optional(s.passedPerHour)},
                       {QStringLiteral("span_seconds"), s.spanSeconds},
                       {QStringLiteral("failures_by_code"), failures}};
}

QByteArray exportJson(const QList<UnitRecord>& records) {
    QJsonArray array;
    for (const UnitRecord& r : records) {
        array.append(recordJson(r));
    }
    const QJsonObject root{{QStringLiteral("format"), key(kExportFormat)},
                           {QStringLiteral("version"), kExportVersion},
                           {QStringLiteral("summary"), summaryJson(summarize(records))},
                           {QStringLiteral("records"), array}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

QByteArray exportCsv(const QList<UnitRecord>& records) {
    QStringList header;
    for (const Field& field : kTextFields) {
        header.append(key(field.key));
    }
    header << QStringLiteral("started_at") << QStringLiteral("finished_at")
           << QStringLiteral("result");
    QList<QStringList> rows;
    rows.reserve(records.size());
    for (const UnitRecord& r : records) {
        QStringList line;
        for (const Field& field : kTextFields) {
            line.append(r.*(field.member));
        }
        line << timeText(r.startedAt) << timeText(r.finishedAt) << r.result;
        rows.append(line);
    }
    return csvDocument(header, rows);
}

Result<QList<UnitRecord>> parseRecordsJson(QByteArrayView bytes) {
    if (bytes.size() > kMaxImportBytes) {
        return fail(QStringLiteral("station.import-too-large"),
                    QStringLiteral("The import holds %1 bytes, more than the %2 MiB a station "
                                   "export can have; split it.")
                        .arg(bytes.size())
                        .arg(kMaxImportBytes / (1024 * 1024)));
    }
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(bytes.toByteArray(), &error);
    const auto notExport = [](const QString& why) {
        return fail(QStringLiteral("station.import-invalid"),
                    QStringLiteral("The file is not a station export (%1); import only files "
                                   "that 'otafleetctl station report --json' wrote.")
                        .arg(why));
    };
    if (error.error != QJsonParseError::NoError || !document.isObject()) {
        return notExport(error.error != QJsonParseError::NoError
                             ? QStringLiteral("JSON error at byte %1: %2")
                                   .arg(error.offset)
                                   .arg(error.errorString())
                             : QStringLiteral("not a JSON object"));
    }
    const QJsonObject root = document.object();
    if (root.value(QStringLiteral("format")).toString() != key(kExportFormat) ||
        root.value(QStringLiteral("version")).toInteger(-1) != kExportVersion) {
        return notExport(QStringLiteral("no \"format\": \"%1\", \"version\": %2")
                             .arg(key(kExportFormat))
                             .arg(kExportVersion));
    }
    const QJsonValue array = root.value(QStringLiteral("records"));
    if (!array.isArray()) {
        return notExport(QStringLiteral("no \"records\" array"));
    }
    const QJsonArray items = array.toArray();
    if (items.size() > kMaxImportRecords) {
        return fail(QStringLiteral("station.import-too-large"),
                    QStringLiteral("The import holds %1 records, more than %2; split it.")
                        .arg(items.size())
                        .arg(kMaxImportRecords));
    }
    QList<UnitRecord> records;
    records.reserve(items.size());
    for (qsizetype i = 0; i < items.size(); ++i) {
        auto record = parseRecord(items.at(i), i);
        if (!record) {
            return fail(record.error());
        }
        records.append(std::move(*record));
    }
    return records;
}

}  // namespace otafleet::station
