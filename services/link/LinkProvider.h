// A transport (LAN, serial, BLE, UDP): turns a device URI of its scheme into a DeviceLink.
// Transports are Qt plugins implementing LinkPlugin; DeviceHub decides from the plugin's JSON
// metadata (transport, scheme, capabilities) which one a URI needs before loading any of them.
#pragma once

#include "common/Error.h"
#include "link/DeviceLink.h"

#include <QObject>
#include <QString>
#include <QUrl>
#include <QtPlugin>

#include <memory>

namespace otafleet::link {

// Credentials a transport may need; which of them it uses is the transport's business.
struct LinkContext {
    QString pkiDirectory;  // made by `otafleetctl pki init`: root-ca.pem, operator.pem/.key
    // Explicit TLS identity files; when all three are set they win over pkiDirectory.
    QString caFile;
    QString certFile;
    QString keyFile;
};

class LinkProvider : public QObject {
    Q_OBJECT
public:
    ~LinkProvider() override;

    [[nodiscard]] virtual QString scheme() const = 0;
    // Errors: link.bad-uri (with what is wrong), and transport-specific ones.
    [[nodiscard]] virtual Result<std::unique_ptr<DeviceLink>> open(const QUrl& uri) = 0;

protected:
    explicit LinkProvider(QObject* parent = nullptr);
};

// The interface a transport plugin's root object implements.
class LinkPlugin {
public:
    virtual ~LinkPlugin();
    // Errors: link.credentials (the identity could not be read, with the path and what to do).
    [[nodiscard]] virtual Result<std::unique_ptr<LinkProvider>> createProvider(
        const LinkContext& context) = 0;
};

}  // namespace otafleet::link

#define OtafleetLinkPlugin_iid "org.otafleet.LinkPlugin/1"
Q_DECLARE_INTERFACE(otafleet::link::LinkPlugin, OtafleetLinkPlugin_iid)
