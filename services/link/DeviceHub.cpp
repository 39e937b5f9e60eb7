#include "link/DeviceHub.h"

#include "link/LinkLogging.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QLibrary>
#include <QPluginLoader>
#include <QRegularExpression>

namespace otafleet::link {

namespace {

constexpr int kMaxPort = 65535;

Error badUri(const QString& text, const QString& why) {
    return Error{QStringLiteral("link.bad-uri"),
                 QStringLiteral("\"%1\" is not a device address: %2. Enter HOST:PORT, for example "
                                "192.168.1.20:50051, or a URI such as lan://HOST:PORT.")
                     .arg(text.left(80), why)};
}

Error badUdp(const QString& text, const QString& why) {
    return Error{QStringLiteral("link.bad-uri"),
                 QStringLiteral("\"%1\" is not a UDP device address: %2. Enter udp://HOST:PORT "
                                "with a numeric address, for example udp://192.168.1.30:1337 or "
                                "udp://[fd00::30]:1337.")
                     .arg(text.left(80), why)};
}

bool isIpv4(const QString& host) {
    const QStringList parts = host.split(QLatin1Char('.'));
    if (parts.size() != 4)
        return false;
    for (const QString& part : parts) {
        bool ok = false;
        const int value = part.toInt(&ok);
        if (!ok || part.isEmpty() || part.size() > 3 || value < 0 || value > 255)
            return false;
    }
    return true;
}

// One pass of normalization. normalizeUri runs it twice and keeps only results that are fixed
// points, so whatever it accepts is stored and shown exactly as it will be read back.
Result<QUrl> normalizeOnce(const QString& text) {
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return fail(badUri(trimmed, QStringLiteral("it is empty")));
    if (trimmed.size() > DeviceHub::kMaxUriLength)
        return fail(badUri(trimmed, QStringLiteral("it is too long")));

    QString candidate = trimmed;
    if (!trimmed.contains(QLatin1String("://"))) {
        // Bare HOST:PORT or [IPv6]:PORT means the LAN transport.
        static const QRegularExpression hostPort(
            QStringLiteral(R"(^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$)"));
        if (!hostPort.match(trimmed).hasMatch())
            return fail(badUri(trimmed, QStringLiteral("it needs a host and a port")));
        candidate = QStringLiteral("lan://") + trimmed;
    }
    QUrl url(candidate, QUrl::StrictMode);
    if (!url.isValid())
        return fail(badUri(trimmed, url.errorString()));
    static const QRegularExpression schemeSyntax(QStringLiteral("^[a-z][a-z0-9+.-]*$"));
    if (!schemeSyntax.match(url.scheme()).hasMatch())
        return fail(badUri(trimmed, QStringLiteral("the scheme is missing or malformed")));
    // "scheme:" followed by anything but "//" has no authority: "lan:lan://HOST" would be a LAN
    // address whose host is empty and whose path holds what the user meant as the address.
    const bool hasAuthority =
        candidate.sliced(candidate.indexOf(QLatin1Char(':')) + 1).startsWith(QLatin1String("//"));
    if (url.scheme() == QLatin1String("lan")) {
        const int port = url.port(-1);
        if (!hasAuthority || url.host().isEmpty() || port < 1 || port > kMaxPort)
            return fail(
                badUri(trimmed, QStringLiteral("an address must name a host and a port "
                                               "for the LAN scheme (lan://HOST:PORT, port 1 "
                                               "to 65535)")));
        if (!url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment() ||
            (!url.path().isEmpty() && url.path() != QLatin1String("/"))) {
            return fail(badUri(trimmed, QStringLiteral("it has parts after the port")));
        }
        url.setPath({});
    } else if (!hasAuthority) {
        return fail(badUri(trimmed, QStringLiteral("the scheme must be followed by //")));
    } else if (url.scheme() == QLatin1String("udp")) {
        // SMP over UDP: a numeric IPv4 or IPv6 address and a port, nothing else.
        const int port = url.port(-1);
        const QString host = url.host();
        if (!isIpv4(host) && !host.contains(QLatin1Char(':')))
            return fail(badUdp(trimmed, QStringLiteral("the host must be a numeric IPv4 address "
                                                       "or an IPv6 address in brackets")));
        if (port < 1 || port > kMaxPort)
            return fail(badUdp(trimmed, QStringLiteral("it needs a port from 1 to 65535")));
        if (!url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment() ||
            (!url.path().isEmpty() && url.path() != QLatin1String("/"))) {
            return fail(badUdp(trimmed, QStringLiteral("it has parts after the port")));
        }
        url.setPath({});
    }
    return url;
}

}  // namespace

DeviceHub::DeviceHub(LinkContext context, const QStringList& pluginDirectories, QObject* parent)
    : QObject(parent), m_context(std::move(context)) {
    scan(pluginDirectories);
}

DeviceHub::~DeviceHub() {
    // Links made by a provider may outlive the hub only if their owner keeps them; providers go
    // first (children), loaders are never unloaded on purpose.
    qDeleteAll(m_providers);
    m_providers.clear();
}

void DeviceHub::scan(const QStringList& directories) {
    for (const QString& directory : directories) {
        const QDir dir(directory);
        if (!dir.exists())
            continue;
        const QFileInfoList files = dir.entryInfoList(QDir::Files, QDir::Name);
        for (const QFileInfo& file : files) {
            if (!QLibrary::isLibrary(file.fileName()))
                continue;
            auto* loader = new QPluginLoader(file.absoluteFilePath(), this);
            // metaData() reads the JSON embedded in the library without loading it.
            const QJsonObject meta = loader->metaData();
            if (meta.value(QStringLiteral("IID")).toString() !=
                QLatin1String(OtafleetLinkPlugin_iid)) {
                delete loader;
                continue;
            }
            const QJsonObject data = meta.value(QStringLiteral("MetaData")).toObject();
            TransportInfo info;
            info.transport = data.value(QStringLiteral("transport")).toString();
            info.scheme = data.value(QStringLiteral("scheme")).toString().toLower();
            info.version = data.value(QStringLiteral("version")).toString();
            for (const QJsonValue& cap : data.value(QStringLiteral("capabilities")).toArray())
                info.capabilities.append(cap.toString());
            info.pluginPath = file.absoluteFilePath();
            if (info.scheme.isEmpty() || m_loaders.contains(info.scheme)) {
                qCWarning(lcLink) << "ignoring plugin" << info.pluginPath
                                  << "(no scheme, or scheme already served)";
                delete loader;
                continue;
            }
            qCDebug(lcLink) << "found transport" << info.transport << "scheme" << info.scheme
                            << "in" << info.pluginPath;
            m_loaders.insert(info.scheme, loader);
            m_transports.append(info);
        }
    }
}

bool DeviceHub::isLoaded(const QString& scheme) const {
    const QPluginLoader* loader = m_loaders.value(scheme.toLower());
    return loader && loader->isLoaded();
}

Result<QUrl> DeviceHub::normalizeUri(const QString& text) {
    auto url = normalizeOnce(text);
    if (!url)
        return url;
    // Qt writes some escapes back decoded (and re-encodes others), so a URI it parsed can read
    // back differently; only a fixed point can be stored, compared and shown.
    const QString written = url->toString();
    auto again = normalizeOnce(written);
    if (!again || again->toString() != written)
        return fail(badUri(text.trimmed(), QStringLiteral("it does not read back the same once "
                                                          "written out; remove %-escapes and "
                                                          "unusual characters")));
    return url;
}

Result<TransportInfo> DeviceHub::transportFor(const QString& uri) const {
    auto url = normalizeUri(uri);
    if (!url)
        return fail(url.error());
    for (const TransportInfo& t : m_transports) {
        if (t.scheme == url->scheme())
            return t;
    }
    QStringList schemes;
    for (const TransportInfo& t : m_transports)
        schemes.append(t.scheme);
    return fail(QStringLiteral("link.unknown-scheme"),
                schemes.isEmpty()
                    ? QStringLiteral("No transport plugin handles \"%1\" because no plugins were "
                                     "found; check the installation's plugin directory.")
                          .arg(url->scheme())
                    : QStringLiteral("No transport plugin handles \"%1\" addresses; available: "
                                     "%2.")
                          .arg(url->scheme(), schemes.join(QStringLiteral(", "))));
}

Result<LinkProvider*> DeviceHub::provider(const TransportInfo& transport) {
    if (LinkProvider* existing = m_providers.value(transport.scheme))
        return existing;
    auto root = pluginObject(transport.scheme);
    if (!root)
        return fail(root.error());
    auto* plugin = qobject_cast<LinkPlugin*>(*root);
    if (!plugin) {
        return fail(QStringLiteral("link.plugin-load-failed"),
                    QStringLiteral("The %1 transport plugin %2 is not a link plugin; reinstall "
                                   "otafleet.")
                        .arg(transport.transport, transport.pluginPath));
    }
    auto created = plugin->createProvider(m_context);
    if (!created)
        return fail(created.error());
    LinkProvider* raw = created->release();
    m_providers.insert(transport.scheme, raw);
    qCInfo(lcLink) << "loaded transport" << transport.transport << "from" << transport.pluginPath;
    return raw;
}

Result<QObject*> DeviceHub::pluginObject(const QString& scheme) {
    const QString key = scheme.toLower();
    QPluginLoader* loader = m_loaders.value(key);
    if (!loader) {
        QStringList schemes;
        for (const TransportInfo& t : m_transports)
            schemes.append(t.scheme);
        return fail(QStringLiteral("link.unknown-scheme"),
                    QStringLiteral("No transport plugin handles \"%1\" addresses; available: %2. "
                                   "Check the installation's plugin directory.")
                        .arg(key, schemes.isEmpty() ? QStringLiteral("none")
                                                    : schemes.join(QStringLiteral(", "))));
    }
    QObject* root = loader->instance();
    if (!root) {
        return fail(QStringLiteral("link.plugin-load-failed"),
                    QStringLiteral("The transport plugin %1 could not be loaded (%2); reinstall "
                                   "otafleet.")
                        .arg(loader->fileName(), loader->errorString()));
    }
    return root;
}

Result<std::unique_ptr<DeviceLink>> DeviceHub::open(const QString& uri) {
    auto transport = transportFor(uri);
    if (!transport)
        return fail(transport.error());
    auto prov = provider(*transport);
    if (!prov)
        return fail(prov.error());
    return (*prov)->open(*normalizeUri(uri));
}

}  // namespace otafleet::link
