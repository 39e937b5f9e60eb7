#include "bundle/Manifest.h"

#include "bundle/JsonScan.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <initializer_list>

namespace otafleet::bundle {
namespace {

const QString kMalformed = QStringLiteral("bundle.manifest-malformed");
constexpr qsizetype kMaxProductLength = 128;
constexpr qsizetype kMaxHardwareLength = 64;
constexpr qsizetype kMaxReleaseNotesLength = 64 * 1024;

// Every key a manifest may hold; anything else means a format this build does not understand,
// and silently ignoring a field a signer meant to matter would be unsafe.
const QSet<QString>& topLevelKeys() {
    static const QSet<QString> keys{
        QStringLiteral("format_version"), QStringLiteral("product"),
        QStringLiteral("version"),        QStringLiteral("security_version"),
        QStringLiteral("hardware"),       QStringLiteral("created"),
        QStringLiteral("expires"),        QStringLiteral("min_agent_version"),
        QStringLiteral("release_notes"),  QStringLiteral("payloads")};
    return keys;
}

const QSet<QString>& payloadKeys() {
    static const QSet<QString> keys{QStringLiteral("name"),          QStringLiteral("slot_class"),
                                    QStringLiteral("size"),          QStringLiteral("sha256"),
                                    QStringLiteral("encoding"),      QStringLiteral("target_size"),
                                    QStringLiteral("target_sha256"), QStringLiteral("base_sha256")};
    return keys;
}

std::unexpected<Error> malformed(const QString& field, const QString& problem) {
    return fail(kMalformed, QStringLiteral("The bundle's manifest is not valid: '%1' %2. The "
                                           "bundle is damaged or was not made by otafleet; do "
                                           "not install it.")
                                .arg(field, problem));
}

bool isNameLike(const QString& text, qsizetype maxLength) {
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9._-]+$"));
    return !text.isEmpty() && text.size() <= maxLength && re.match(text).hasMatch();
}

qsizetype countKeys(const QJsonValue& value) {
    qsizetype n = 0;
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        n += object.size();
        for (auto it = object.begin(); it != object.end(); ++it) {
            n += countKeys(it.value());
        }
    } else if (value.isArray()) {
        const QJsonArray array = value.toArray();
        for (const QJsonValue& item : array) {
            n += countKeys(item);
        }
    }
    return n;
}

// Reads fields of one JSON object, remembering the first problem so that the parser reads as a
// list of fields rather than a ladder of ifs.
class FieldReader {
public:
    FieldReader(const QJsonObject& object, QString prefix)
        : m_object(object), m_prefix(std::move(prefix)) {}

    [[nodiscard]] bool has(const QString& key) const { return m_object.contains(key); }

    Result<QString> string(const QString& key, qsizetype maxLength, bool required = true) {
        const QJsonValue v = m_object.value(key);
        if (v.isUndefined() && !required) {
            return QString();
        }
        if (!v.isString()) {
            return malformed(m_prefix + key, v.isUndefined() ? QStringLiteral("is missing")
                                                             : QStringLiteral("must be text"));
        }
        QString s = v.toString();
        if (s.size() > maxLength) {
            return malformed(m_prefix + key,
                             QStringLiteral("is longer than %1 characters").arg(maxLength));
        }
        return s;
    }

    Result<quint64> integer(const QString& key) {
        const QJsonValue v = m_object.value(key);
        if (!v.isDouble()) {  // Qt calls every JSON number a double
            return malformed(m_prefix + key, v.isUndefined() ? QStringLiteral("is missing")
                                                             : QStringLiteral("must be a number"));
        }
        // JsonScan already refused floats, negatives and values above 2^53 in the text.
        const qint64 n = v.toInteger(-1);
        if (n < 0 || static_cast<quint64>(n) > detail::kMaxJsonInteger) {
            return malformed(m_prefix + key,
                             QStringLiteral("must be a whole number from 0 to 2^53"));
        }
        return static_cast<quint64>(n);
    }

    Result<QByteArray> sha256(const QString& key) {
        static const QRegularExpression re(QStringLiteral("^[0-9a-f]{64}$"));
        auto s = string(key, 64);
        if (!s) {
            return std::unexpected(s.error());
        }
        if (!re.match(*s).hasMatch()) {
            return malformed(m_prefix + key,
                             QStringLiteral("must be 64 lowercase hexadecimal digits"));
        }
        return QByteArray::fromHex(s->toLatin1());
    }

    Result<SemVer> semver(const QString& key) {
        auto s = string(key, SemVer::kMaxLength);
        if (!s) {
            return std::unexpected(s.error());
        }
        auto v = SemVer::parse(*s);
        if (!v) {
            return malformed(m_prefix + key, QStringLiteral("is not a semantic version such as "
                                                            "1.4.2"));
        }
        return *v;
    }

    Result<QDateTime> timestamp(const QString& key) {
        static const QRegularExpression re(
            QStringLiteral("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$"));
        auto s = string(key, 20);
        if (!s) {
            return std::unexpected(s.error());
        }
        QDateTime t = QDateTime::fromString(*s, Qt::ISODate);
        // The round trip refuses dates like February 30 that the parser might roll over.
        if (!re.match(*s).hasMatch() || !t.isValid() || t.toUTC().toString(Qt::ISODate) != *s) {
            return malformed(m_prefix + key, QStringLiteral("must be a UTC time written like "
                                                            "2026-11-21T13:00:00Z"));
        }
        return t.toUTC();
    }

    Status onlyKnownKeys(const QSet<QString>& known) {
        for (auto it = m_object.begin(); it != m_object.end(); ++it) {
            if (!known.contains(it.key())) {
                return malformed(m_prefix + it.key().left(64),
                                 QStringLiteral("is not a field this version of otafleet knows"));
            }
        }
        return {};
    }

private:
    QJsonObject m_object;
    QString m_prefix;
};

// Unwraps a Result into `target` or returns its error from the enclosing function.
#define OTAFLEET_TRY_ASSIGN(target, expr)                  \
    do {                                                   \
        auto _r = (expr);                                  \
        if (!_r) {                                         \
            return std::unexpected(std::move(_r.error())); \
        }                                                  \
        (target) = std::move(*_r);                         \
    } while (false)

Result<PayloadEntry> parsePayload(const QJsonValue& value, int index) {
    const QString prefix = QStringLiteral("payloads[%1].").arg(index);
    if (!value.isObject()) {
        return malformed(prefix.chopped(1), QStringLiteral("must be an object"));
    }
    FieldReader f(value.toObject(), prefix);
    if (auto ok = f.onlyKnownKeys(payloadKeys()); !ok) {
        return std::unexpected(ok.error());
    }
    PayloadEntry e;
    OTAFLEET_TRY_ASSIGN(e.name, f.string(QStringLiteral("name"), 64));
    if (!isNameLike(e.name, 64)) {
        return malformed(prefix + QStringLiteral("name"),
                         QStringLiteral("must be 1 to 64 letters, digits, '.', '_' or '-'"));
    }
    OTAFLEET_TRY_ASSIGN(e.slotClass, f.string(QStringLiteral("slot_class"), 64));
    if (!isNameLike(e.slotClass, 64)) {
        return malformed(prefix + QStringLiteral("slot_class"),
                         QStringLiteral("must be 1 to 64 letters, digits, '.', '_' or '-'"));
    }
    OTAFLEET_TRY_ASSIGN(e.size, f.integer(QStringLiteral("size")));
    OTAFLEET_TRY_ASSIGN(e.sha256, f.sha256(QStringLiteral("sha256")));
    QString encoding;
    OTAFLEET_TRY_ASSIGN(encoding, f.string(QStringLiteral("encoding"), 16));
    const bool hasTarget =
        f.has(QStringLiteral("target_size")) || f.has(QStringLiteral("target_sha256"));
    const bool hasBase = f.has(QStringLiteral("base_sha256"));
    if (encoding == u"raw") {
        e.encoding = Encoding::Raw;
        if (hasTarget || hasBase) {
            return malformed(prefix + QStringLiteral("encoding"),
                             QStringLiteral("is raw, which has no target or base fields"));
        }
        e.targetSize = e.size;
        e.targetSha256 = e.sha256;
        return e;
    }
    if (encoding == u"zstd") {
        e.encoding = Encoding::Zstd;
        if (hasBase) {
            return malformed(prefix + QStringLiteral("base_sha256"),
                             QStringLiteral("belongs only to zstd-patch payloads"));
        }
    } else if (encoding == u"zstd-patch") {
        e.encoding = Encoding::ZstdPatch;
        OTAFLEET_TRY_ASSIGN(e.baseSha256, f.sha256(QStringLiteral("base_sha256")));
    } else {
        return malformed(prefix + QStringLiteral("encoding"),
                         QStringLiteral("must be raw, zstd or zstd-patch"));
    }
    OTAFLEET_TRY_ASSIGN(e.targetSize, f.integer(QStringLiteral("target_size")));
    OTAFLEET_TRY_ASSIGN(e.targetSha256, f.sha256(QStringLiteral("target_sha256")));
    return e;
}

Status parseLists(const QJsonObject& root, Manifest& m) {
    const QJsonValue hardware = root.value(QStringLiteral("hardware"));
    if (!hardware.isArray() || hardware.toArray().isEmpty()) {
        return malformed(QStringLiteral("hardware"),
                         QStringLiteral("must be a non-empty list of hardware revisions"));
    }
    const QJsonArray hw = hardware.toArray();
    if (hw.size() > Manifest::kMaxHardware) {
        return malformed(
            QStringLiteral("hardware"),
            QStringLiteral("lists more than %1 revisions").arg(Manifest::kMaxHardware));
    }
    for (const QJsonValue& item : hw) {
        if (!item.isString() || item.toString().isEmpty() ||
            item.toString().size() > kMaxHardwareLength) {
            return malformed(QStringLiteral("hardware"),
                             QStringLiteral("must hold only texts of 1 to %1 characters")
                                 .arg(kMaxHardwareLength));
        }
        m.hardware.append(item.toString());
    }

    const QJsonValue payloads = root.value(QStringLiteral("payloads"));
    if (!payloads.isArray() || payloads.toArray().isEmpty() ||
        payloads.toArray().size() > Manifest::kMaxPayloads) {
        return malformed(QStringLiteral("payloads"), QStringLiteral("must be a list of 1 to %1 "
                                                                    "payloads")
                                                         .arg(Manifest::kMaxPayloads));
    }
    const QJsonArray list = payloads.toArray();
    QSet<QString> names;
    for (int i = 0; i < list.size(); ++i) {
        auto entry = parsePayload(list.at(i), i);
        if (!entry) {
            return std::unexpected(entry.error());
        }
        if (names.contains(entry->name)) {
            return malformed(QStringLiteral("payloads[%1].name").arg(i),
                             QStringLiteral("repeats the name '%1'").arg(entry->name));
        }
        names.insert(entry->name);
        m.payloads.append(std::move(*entry));
    }
    return {};
}

QString toIso(const QDateTime& t) {
    return t.toUTC().toString(Qt::ISODate);
}

QString hexOf(const QByteArray& raw) {
    return QString::fromLatin1(raw.toHex());
}

}  // namespace

QString encodingName(Encoding encoding) {
    switch (encoding) {
        case Encoding::Raw:
            return QStringLiteral("raw");
        case Encoding::Zstd:
            return QStringLiteral("zstd");
        case Encoding::ZstdPatch:
            return QStringLiteral("zstd-patch");
    }
    return QStringLiteral("raw");
}

Result<Manifest> Manifest::parse(QByteArrayView json) {
    if (json.size() > kMaxSize) {
        return fail(QStringLiteral("bundle.manifest-too-large"),
                    QStringLiteral("The bundle's manifest is %1 bytes, more than the %2 a manifest "
                                   "may have; the bundle is damaged or not an otafleet bundle.")
                        .arg(json.size())
                        .arg(kMaxSize));
    }
    auto scan = detail::scanJson(json, kMaxDepth, kMalformed, QStringLiteral("bundle's manifest"));
    if (!scan) {
        return std::unexpected(scan.error());
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        return fail(kMalformed, QStringLiteral("The bundle's manifest is not a JSON object (%1 at "
                                               "byte %2); the bundle is damaged. Get a fresh copy.")
                                    .arg(error.errorString())
                                    .arg(error.offset));
    }
    const QJsonObject root = doc.object();
    if (countKeys(root) != scan->keyCount) {
        return fail(kMalformed, QStringLiteral("The bundle's manifest names a field twice, so "
                                               "its meaning is ambiguous; do not install it."));
    }
    FieldReader f(root, QString());
    Manifest m;
    quint64 format = 0;
    OTAFLEET_TRY_ASSIGN(format, f.integer(QStringLiteral("format_version")));
    if (format != static_cast<quint64>(kFormatVersion)) {
        return fail(QStringLiteral("bundle.unsupported-format"),
                    QStringLiteral("The bundle's manifest has format version %1, but this "
                                   "otafleet reads version %2. Update otafleet to install it.")
                        .arg(format)
                        .arg(kFormatVersion));
    }
    if (auto ok = f.onlyKnownKeys(topLevelKeys()); !ok) {
        return std::unexpected(ok.error());
    }
    m.formatVersion = kFormatVersion;
    OTAFLEET_TRY_ASSIGN(m.product, f.string(QStringLiteral("product"), kMaxProductLength));
    if (m.product.isEmpty()) {
        return malformed(QStringLiteral("product"), QStringLiteral("is empty"));
    }
    OTAFLEET_TRY_ASSIGN(m.version, f.semver(QStringLiteral("version")));
    OTAFLEET_TRY_ASSIGN(m.securityVersion, f.integer(QStringLiteral("security_version")));
    OTAFLEET_TRY_ASSIGN(m.created, f.timestamp(QStringLiteral("created")));
    if (f.has(QStringLiteral("expires"))) {
        QDateTime expires;
        OTAFLEET_TRY_ASSIGN(expires, f.timestamp(QStringLiteral("expires")));
        m.expires = expires;
    }
    OTAFLEET_TRY_ASSIGN(m.minAgentVersion, f.semver(QStringLiteral("min_agent_version")));
    OTAFLEET_TRY_ASSIGN(m.releaseNotes,
                        f.string(QStringLiteral("release_notes"), kMaxReleaseNotesLength, false));
    if (auto ok = parseLists(root, m); !ok) {
        return std::unexpected(ok.error());
    }
    return m;
}

QByteArray Manifest::serialize() const {
    QJsonArray hw;
    for (const QString& h : hardware) {
        hw.append(h);
    }
    QJsonArray list;
    for (const PayloadEntry& e : payloads) {
        QJsonObject p{{QStringLiteral("name"), e.name},
                      {QStringLiteral("slot_class"), e.slotClass},
                      {QStringLiteral("size"), static_cast<qint64>(e.size)},
                      {QStringLiteral("sha256"), hexOf(e.sha256)},
                      {QStringLiteral("encoding"), encodingName(e.encoding)}};
        if (e.encoding != Encoding::Raw) {
            p.insert(QStringLiteral("target_size"), static_cast<qint64>(e.targetSize));
            p.insert(QStringLiteral("target_sha256"), hexOf(e.targetSha256));
        }
        if (e.encoding == Encoding::ZstdPatch) {
            p.insert(QStringLiteral("base_sha256"), hexOf(e.baseSha256));
        }
        list.append(p);
    }
    // QJsonObject keeps keys sorted, which is the fixed order the header promises.
    QJsonObject root{{QStringLiteral("format_version"), formatVersion},
                     {QStringLiteral("product"), product},
                     {QStringLiteral("version"), version.toString()},
                     {QStringLiteral("security_version"), static_cast<qint64>(securityVersion)},
                     {QStringLiteral("hardware"), hw},
                     {QStringLiteral("created"), toIso(created)},
                     {QStringLiteral("min_agent_version"), minAgentVersion.toString()},
                     {QStringLiteral("release_notes"), releaseNotes},
                     {QStringLiteral("payloads"), list}};
    if (expires) {
        root.insert(QStringLiteral("expires"), toIso(*expires));
    }
    return QJsonDocument(root).toJson(QJsonDocument::Compact);
}

quint64 Manifest::totalPayloadSize() const {
    quint64 total = 0;
    for (const PayloadEntry& e : payloads) {
        total += e.size;
    }
    return total;
}

}  // namespace otafleet::bundle
