// Where the console gets device links: finds transport plugins in plugin directories, reads each
// plugin's JSON metadata (transport, scheme, capabilities) without loading it, and loads only
// the plugin a URI's scheme needs, once, on first use. Plugins stay loaded for the hub's life
// because the links they created run their code.
#pragma once

#include "common/Error.h"
#include "link/DeviceLink.h"
#include "link/LinkProvider.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

class QPluginLoader;

namespace otafleet::link {

struct TransportInfo {
    QString transport;  // "lan"
    QString scheme;     // URI scheme it serves
    QStringList capabilities;
    QString version;
    QString pluginPath;
};

class DeviceHub : public QObject {
    Q_OBJECT
public:
    static constexpr qsizetype kMaxUriLength = 2048;

    DeviceHub(LinkContext context, const QStringList& pluginDirectories, QObject* parent = nullptr);
    ~DeviceHub() override;

    // What the plugin directories offer, from metadata only.
    [[nodiscard]] QList<TransportInfo> transports() const { return m_transports; }
    [[nodiscard]] bool isLoaded(const QString& scheme) const;

    // Accepts "HOST:PORT" (meaning the LAN transport) or "scheme://...". Returns the canonical
    // URI. Errors: link.bad-uri.
    [[nodiscard]] static Result<QUrl> normalizeUri(const QString& text);
    // Errors: link.bad-uri, link.unknown-scheme (names the schemes that are available).
    [[nodiscard]] Result<TransportInfo> transportFor(const QString& uri) const;
    // Errors: as transportFor, link.plugin-load-failed, link.credentials, and the transport's.
    [[nodiscard]] Result<std::unique_ptr<DeviceLink>> open(const QString& uri);
    // The root object of the plugin serving `scheme`, loaded on first use, for callers that need
    // another interface the plugin offers besides LinkPlugin (they qobject_cast it). Errors:
    // link.unknown-scheme, link.plugin-load-failed.
    [[nodiscard]] Result<QObject*> pluginObject(const QString& scheme);

private:
    void scan(const QStringList& directories);
    [[nodiscard]] Result<LinkProvider*> provider(const TransportInfo& transport);

    LinkContext m_context;
    QList<TransportInfo> m_transports;
    QHash<QString, QPluginLoader*> m_loaders;   // by scheme; loaded on demand
    QHash<QString, LinkProvider*> m_providers;  // by scheme; owned (children of this hub)
};

}  // namespace otafleet::link
