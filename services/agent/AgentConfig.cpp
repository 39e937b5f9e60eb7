#include "agent/AgentConfig.h"

#include "common/AtomicFile.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>

#include <algorithm>
#include <functional>
#include <limits>

namespace otafleet::agent {
namespace {

enum class Kind {
    Text,
    Path,
    Size,
    Tries,
    Seconds,
    Listen,
    Backend,
    Signers,
    Interval,
    TelemetryBytes,
    SerialPort,
    Baud
};

struct KeySpec {
    const char* section;
    const char* key;
    Kind kind;
    bool required;
    std::function<void(AgentConfig&, const QString&)> apply;  // value already validated
    bool repeatable = false;
};

quint64 toU64(const QString& v) {
    return v.toULongLong();
}

QString resolvePath(const QString& baseDir, const QString& value) {
    return QDir::cleanPath(QDir(baseDir).absoluteFilePath(value));
}

const QList<KeySpec>& keySpecs() {
    static const QList<KeySpec> specs = {
        {"device", "id", Kind::Text, true,
         [](AgentConfig& c, const QString& v) { c.deviceId = v; }},
        {"device", "name", Kind::Text, false, [](AgentConfig& c, const QString& v) { c.name = v; }},
        {"device", "model", Kind::Text, false,
         [](AgentConfig& c, const QString& v) { c.model = v; }},
        {"device", "hardware", Kind::Text, true,
         [](AgentConfig& c, const QString& v) { c.hardware = v; }},
        {"agent", "listen", Kind::Listen, true,
         [](AgentConfig& c, const QString& v) {
             const qsizetype colon = v.lastIndexOf(u':');
             c.listenHost = v.left(colon);
             c.listenPort = static_cast<quint16>(v.mid(colon + 1).toUInt());
         }},
        {"agent", "data_dir", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.dataDir = v; }},
        {"agent", "max_bundle_size", Kind::Size, false,
         [](AgentConfig& c, const QString& v) { c.maxBundleSize = toU64(v); }},
        {"slots", "slot_a", Kind::Path, true,
         [](AgentConfig& c, const QString& v) { c.slotA = v; }},
        {"slots", "slot_b", Kind::Path, true,
         [](AgentConfig& c, const QString& v) { c.slotB = v; }},
        {"slots", "slot_size", Kind::Size, false,
         [](AgentConfig& c, const QString& v) { c.slotSize = toU64(v); }},
        {"boot", "backend", Kind::Backend, false,
         [](AgentConfig& c, const QString& v) {
             c.bootBackend = v == u"uboot"  ? BootBackend::UBoot
                             : v == u"grub" ? BootBackend::Grub
                                            : BootBackend::File;
         }},
        {"boot", "trial_tries", Kind::Tries, false,
         [](AgentConfig& c, const QString& v) { c.trialTries = v.toInt(); }},
        {"boot", "uboot_env_config", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.ubootEnvConfig = v; }},
        {"boot", "grub_env", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.grubEnv = v; }},
        {"trust", "bundle_root", Kind::Path, true,
         [](AgentConfig& c, const QString& v) { c.bundleRoot = v; }},
        {"trust", "crl", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.crlFiles << v; }, true},
        {"trust", "signers_required", Kind::Signers, false,
         [](AgentConfig& c, const QString& v) { c.signersRequired = v.toInt(); }},
        {"server", "address", Kind::Listen, false,
         [](AgentConfig& c, const QString& v) { c.serverAddress = v; }},
        {"server", "enroll_token_file", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.enrollTokenFile = v; }},
        {"server", "enroll_station", Kind::Listen, false,
         [](AgentConfig& c, const QString& v) { c.enrollStation = v; }},
        {"tls", "certificate", Kind::Path, true,
         [](AgentConfig& c, const QString& v) { c.tlsCertificate = v; }},
        {"tls", "key", Kind::Path, true, [](AgentConfig& c, const QString& v) { c.tlsKey = v; }},
        // [identity]: written by `otafleet-agent enroll`; when present the agent serves with it.
        {"identity", "certificate", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.identityCertificate = v; }},
        {"identity", "key", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.identityKey = v; }},
        {"identity", "key_uri", Kind::Text, false,
         [](AgentConfig& c, const QString& v) { c.identityKeyUri = v; }},
        {"identity", "pin_env", Kind::Text, false,
         [](AgentConfig& c, const QString& v) { c.identityPinEnv = v; }},
        {"identity", "pkcs11_module", Kind::Path, false,
         [](AgentConfig& c, const QString& v) { c.identityPkcs11Module = v; }},
        {"tls", "operator_ca", Kind::Path, true,
         [](AgentConfig& c, const QString& v) { c.operatorCa = v; }},
        {"health", "command", Kind::Text, false,
         [](AgentConfig& c, const QString& v) { c.healthCommand = v; }},
        {"health", "timeout", Kind::Seconds, false,
         [](AgentConfig& c, const QString& v) { c.healthTimeoutSeconds = v.toInt(); }},
        {"health", "min_free", Kind::Size, false,
         [](AgentConfig& c, const QString& v) { c.healthMinFreeBytes = toU64(v); }},
        {"health", "check_tcp", Kind::Listen, false,
         [](AgentConfig& c, const QString& v) { c.healthTcpTargets << v; }, true},
        {"telemetry", "max_bytes", Kind::TelemetryBytes, false,
         [](AgentConfig& c, const QString& v) { c.telemetryMaxBytes = toU64(v); }},
        {"telemetry", "metrics_interval", Kind::Interval, false,
         [](AgentConfig& c, const QString& v) { c.telemetryMetricsInterval = v.toInt(); }},
        {"smp", "serial", Kind::SerialPort, false,
         [](AgentConfig& c, const QString& v) { c.smpSerial = v; }},
        {"smp", "baud", Kind::Baud, false,
         [](AgentConfig& c, const QString& v) { c.smpBaud = v.toInt(); }},
    };
    return specs;
}

int editDistance(QStringView a, QStringView b) {
    QList<int> prev(b.size() + 1);
    QList<int> cur(b.size() + 1);
    for (qsizetype j = 0; j <= b.size(); ++j) {
        prev[j] = static_cast<int>(j);
    }
    for (qsizetype i = 1; i <= a.size(); ++i) {
        cur[0] = static_cast<int>(i);
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// The closest known key of the section, if it is plausibly what was meant.
QString suggestion(const QString& section, const QString& key) {
    QString best;
    int bestDistance = std::numeric_limits<int>::max();
    for (const KeySpec& spec : keySpecs()) {
        if (section != QLatin1String(spec.section)) {
            continue;
        }
        const QString candidate = QLatin1String(spec.key);
        const int d =
            candidate.contains(key) || key.contains(candidate) ? 1 : editDistance(key, candidate);
        if (d < bestDistance) {
            bestDistance = d;
            best = candidate;
        }
    }
    return bestDistance <= std::max<qsizetype>(2, key.size() / 3) ? best : QString();
}

// Checks a value for its kind; returns an empty string when fine, else what is wrong.
QString validate(Kind kind, const QString& value) {
    bool ok = false;
    switch (kind) {
        case Kind::Text:
        case Kind::Path:
            return value.isEmpty() ? QStringLiteral("needs a value") : QString();
        case Kind::Size: {
            const quint64 n = value.toULongLong(&ok);
            return ok && n > 0 ? QString() : QStringLiteral("must be a positive number of bytes");
        }
        case Kind::Tries: {
            const int n = value.toInt(&ok);
            return ok && n >= 1 && n <= 100
                       ? QString()
                       : QStringLiteral("must be a whole number from 1 to 100");
        }
        case Kind::Seconds: {
            const int n = value.toInt(&ok);
            return ok && n >= 1 && n <= 3600 ? QString()
                                             : QStringLiteral("must be seconds from 1 to 3600");
        }
        case Kind::Listen: {
            const qsizetype colon = value.lastIndexOf(u':');
            if (colon <= 0) {
                return QStringLiteral("must be HOST:PORT, for example 0.0.0.0:7443");
            }
            const uint port = value.mid(colon + 1).toUInt(&ok);
            return ok && port >= 1 && port <= 65535 ? QString()
                                                    : QStringLiteral("has a port outside 1-65535");
        }
        case Kind::Interval: {
            const int n = value.toInt(&ok);
            return ok && n >= 0 && n <= 86400
                       ? QString()
                       : QStringLiteral("must be seconds from 0 (off) to 86400");
        }
        case Kind::Signers: {
            const int n = value.toInt(&ok);
            return ok && n >= 1 && n <= AgentConfig::kMaxSignersRequired
                       ? QString()
                       : QStringLiteral(
                             "must be a whole number from 1 to %1 (distinct release "
                             "signers a bundle needs)")
                             .arg(AgentConfig::kMaxSignersRequired);
        }
        case Kind::TelemetryBytes: {
            const quint64 n = value.toULongLong(&ok);
            return ok && n >= AgentConfig::kMinTelemetryBytes &&
                           n <= AgentConfig::kMaxTelemetryBytes
                       ? QString()
                       : QStringLiteral("must be bytes from %1 to %2")
                             .arg(AgentConfig::kMinTelemetryBytes)
                             .arg(AgentConfig::kMaxTelemetryBytes);
        }
        case Kind::SerialPort:
            return value == QLatin1String(AgentConfig::kSmpPty) || value.startsWith(u'/')
                       ? QString()
                       : QStringLiteral(
                             "must be 'pty' or the absolute path of a serial port, "
                             "for example /dev/ttyGS0");
        case Kind::Baud: {
            static const QList<int> kRates = {0,       1200,    2400,    4800,   9600,   19200,
                                              38400,   57600,   115200,  230400, 460800, 921600,
                                              1000000, 2000000, 3000000, 4000000};
            const int n = value.toInt(&ok);
            return ok && kRates.contains(n)
                       ? QString()
                       : QStringLiteral(
                             "must be a standard rate such as 115200 (0: an unpaced "
                             "pty)");
        }
        case Kind::Backend:
            return value == u"file" || value == u"uboot" || value == u"grub"
                       ? QString()
                       : QStringLiteral("must be one of file, uboot, grub");
    }
    return {};
}

}  // namespace

QString bootBackendName(BootBackend backend) {
    switch (backend) {
        case BootBackend::File:
            return QStringLiteral("file");
        case BootBackend::UBoot:
            return QStringLiteral("uboot");
        case BootBackend::Grub:
            return QStringLiteral("grub");
    }
    return {};
}

QString AgentConfig::listenAddress() const {
    return QStringLiteral("%1:%2").arg(listenHost).arg(listenPort);
}

Result<AgentConfig> AgentConfig::parse(QByteArrayView text, const QString& fileName,
                                       const QString& baseDir) {
    QStringList problems;
    const auto problem = [&](int line, const QString& what) {
        problems << (line > 0 ? QStringLiteral("%1:%2: %3").arg(fileName).arg(line).arg(what)
                              : QStringLiteral("%1: %2").arg(fileName, what));
    };
    if (text.size() > kMaxFileSize) {
        return fail(QStringLiteral("agent.config-invalid"),
                    QStringLiteral("%1 is larger than %2 bytes; it cannot be an agent "
                                   "configuration.")
                        .arg(fileName)
                        .arg(kMaxFileSize));
    }

    AgentConfig config;
    config.dataDir = baseDir;
    QString section;
    QSet<QString> seen;
    int lineNo = 0;
    qsizetype pos = 0;
    while (pos < text.size()) {
        ++lineNo;
        if (lineNo > kMaxLines) {
            problem(lineNo, QStringLiteral("too many lines (at most %1)").arg(kMaxLines));
            break;
        }
        qsizetype end = text.indexOf('\n', pos);
        if (end < 0) {
            end = text.size();
        }
        const QByteArrayView raw = text.sliced(pos, end - pos);
        pos = end + 1;
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(u'#') || line.startsWith(u';')) {
            continue;
        }
        if (line.startsWith(u'[')) {
            if (!line.endsWith(u']')) {
                problem(lineNo, QStringLiteral("section header lacks its closing ']'"));
                continue;
            }
            section = line.mid(1, line.size() - 2).trimmed();
            const bool known =
                std::any_of(keySpecs().begin(), keySpecs().end(),
                            [&](const KeySpec& s) { return section == QLatin1String(s.section); });
            if (!known) {
                problem(lineNo, QStringLiteral("unknown section [%1]; known sections are "
                                               "[device], [agent], [slots], [boot], [trust], "
                                               "[server], [tls], [identity], [health], "
                                               "[telemetry], [smp]")
                                    .arg(section));
            }
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (eq < 0) {
            problem(lineNo, QStringLiteral("expected 'key = value', '[section]' or a '#' comment"));
            continue;
        }
        const QString key = line.left(eq).trimmed();
        const QString value = line.mid(eq + 1).trimmed();
        if (section.isEmpty()) {
            problem(lineNo, QStringLiteral("key '%1' comes before any [section]").arg(key));
            continue;
        }
        if (value.size() > kMaxValueSize) {
            problem(lineNo, QStringLiteral("value of '%1' is longer than %2 characters")
                                .arg(key)
                                .arg(kMaxValueSize));
            continue;
        }
        const auto spec = std::find_if(keySpecs().begin(), keySpecs().end(), [&](const KeySpec& s) {
            return section == QLatin1String(s.section) && key == QLatin1String(s.key);
        });
        if (spec == keySpecs().end()) {
            const QString hint = suggestion(section, key);
            problem(lineNo,
                    hint.isEmpty()
                        ? QStringLiteral("unknown key '%1' in [%2]").arg(key, section)
                        : QStringLiteral("unknown key '%1'; did you mean '%2'?").arg(key, hint));
            continue;
        }
        const QString id = section + u'.' + key;
        if (seen.contains(id) && !spec->repeatable) {
            problem(lineNo, QStringLiteral("'%1' is set twice in [%2]").arg(key, section));
            continue;
        }
        seen.insert(id);
        const QString wrong = validate(spec->kind, value);
        if (!wrong.isEmpty()) {
            problem(lineNo, QStringLiteral("'%1' %2").arg(key, wrong));
            continue;
        }
        spec->apply(config, spec->kind == Kind::Path ? resolvePath(baseDir, value) : value);
    }
    for (const KeySpec& spec : keySpecs()) {
        const QString id = QLatin1String(spec.section) + u'.' + QLatin1String(spec.key);
        if (spec.required && !seen.contains(id)) {
            problem(0, QStringLiteral("missing required key '%1' in [%2]")
                           .arg(QLatin1String(spec.key), QLatin1String(spec.section)));
        }
    }
    if (!config.identityCertificate.isEmpty() &&
        config.identityKey.isEmpty() == config.identityKeyUri.isEmpty())
        problem(0, QStringLiteral("[identity] needs exactly one of 'key' (a file) and 'key_uri' "
                                  "(a pkcs11: URI) beside 'certificate'"));
    if (config.smpBaud == 0 && !config.smpSerial.isEmpty() &&
        config.smpSerial != QLatin1String(kSmpPty))
        problem(0, QStringLiteral("[smp] 'baud = 0' (no pacing) applies to 'serial = pty' only; "
                                  "give the port's rate, for example 115200"));
    if (config.bootBackend == BootBackend::UBoot && config.ubootEnvConfig.isEmpty())
        problem(0, QStringLiteral("'backend = uboot' needs 'uboot_env_config' in [boot]"));
    if (config.bootBackend == BootBackend::Grub && config.grubEnv.isEmpty())
        problem(0, QStringLiteral("'backend = grub' needs 'grub_env' in [boot]"));
    if (!problems.isEmpty()) {
        return fail(QStringLiteral("agent.config-invalid"),
                    QStringLiteral("The agent configuration has %1 error(s); fix them and start "
                                   "again:\n%2")
                        .arg(problems.size())
                        .arg(problems.join(u'\n')));
    }
    return config;
}

Result<AgentConfig> AgentConfig::load(const QString& path) {
    if (!QFileInfo::exists(path)) {
        return fail(QStringLiteral("agent.config-missing"),
                    QStringLiteral("The configuration file %1 does not exist; create it with "
                                   "'otafleet-agent setup' or pass the right --config.")
                        .arg(path));
    }
    auto bytes = readFileBounded(path, kMaxFileSize);
    if (!bytes) {
        return fail(bytes.error().code == u"io.too-large"
                        ? Error{QStringLiteral("agent.config-invalid"), bytes.error().message}
                        : bytes.error());
    }
    const QFileInfo info(path);
    return parse(*bytes, info.fileName(), info.absolutePath());
}

}  // namespace otafleet::agent
