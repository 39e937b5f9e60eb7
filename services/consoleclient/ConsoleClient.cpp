#include "consoleclient/ConsoleClient.h"

#include "common/AtomicFile.h"
#include "crypto/TlsPolicy.h"

#include <QDir>
#include <QScopeGuard>

#include <algorithm>

namespace otafleet::client {
namespace {

constexpr qint64 kMaxPem = 1024 * 1024;

Result<std::string> readPem(const QString& path) {
    auto bytes = readFileBounded(path, kMaxPem);
    if (!bytes)
        return fail(bytes.error());
    return bytes->toStdString();
}

void wipe(QByteArray& secret) {
    std::fill(secret.begin(), secret.end(), '\0');
    secret.clear();
}

void wipe(std::string& secret) {
    std::fill(secret.begin(), secret.end(), '\0');
    secret.clear();
}

}  // namespace

Status ConsoleSettings::validate() const {
    const auto missing = [](const QString& what) {
        return fail(QStringLiteral("client.settings"), what);
    };
    if (address.trimmed().isEmpty())
        return missing(QStringLiteral("Give otafleetd's address as HOST:PORT."));
    const bool login = !caFile.isEmpty() || !user.isEmpty();
    if (pkiDir.isEmpty() != login) {
        return missing(
            QStringLiteral("Sign in either with a PKI folder (operator certificate) "
                           "or with the fleet's root CA, a user name and a "
                           "password."));
    }
    if (login && (caFile.isEmpty() || user.isEmpty() || password.isEmpty())) {
        return missing(
            QStringLiteral("A password sign-in needs the fleet's root CA file, the "
                           "user name and the password."));
    }
    return {};
}

Result<std::unique_ptr<ConsoleClient>> ConsoleClient::open(ConsoleSettings& settings) {
    const auto wiped = qScopeGuard([&settings] { wipe(settings.password); });
    if (auto valid = settings.validate(); !valid)
        return fail(valid.error());
    // Only TLS 1.3, in this process as in otafleetd (gRPC has no setting of its own for it).
    if (auto tls = crypto::requireTls13(); !tls)
        return fail(tls.error());
    grpc::SslCredentialsOptions tls;
    if (!settings.pkiDir.isEmpty()) {
        const QDir pki(settings.pkiDir);
        auto root = readPem(pki.filePath(QStringLiteral("root-ca.pem")));
        auto cert = readPem(pki.filePath(QStringLiteral("operator.pem")));
        auto key = readPem(pki.filePath(QStringLiteral("operator.key")));
        for (const auto* r : {&root, &cert, &key}) {
            if (!*r)
                return fail(r->error());
        }
        tls.pem_root_certs = std::move(*root);
        tls.pem_cert_chain = std::move(*cert);
        tls.pem_private_key = std::move(*key);
    } else {
        auto root = readPem(settings.caFile);
        if (!root)
            return fail(root.error());
        tls.pem_root_certs = std::move(*root);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(int(kMaxMessage));
    args.SetMaxSendMessageSize(int(kMaxMessage));
    std::unique_ptr<ConsoleClient> c(new ConsoleClient());
    c->m_address = settings.address.trimmed();
    c->m_channel =
        grpc::CreateCustomChannel(c->m_address.toStdString(), grpc::SslCredentials(tls), args);
    wipe(tls.pem_private_key);
    c->m_stub = cpb::ConsoleService::NewStub(c->m_channel);
    if (settings.pkiDir.isEmpty()) {
        cpb::LoginRequest login;
        login.set_user(settings.user.toStdString());
        login.set_password(settings.password.toStdString());
        auto reply = c->call(&cpb::ConsoleService::Stub::Login, login);
        wipe(*login.mutable_password());
        if (!reply)
            return fail(reply.error());
        c->m_token = reply->token();
    }
    return c;
}

std::unique_ptr<grpc::ClientContext> ConsoleClient::context(std::chrono::seconds deadline) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + deadline);
    if (!m_token.empty())
        ctx->AddMetadata("authorization", "Bearer " + m_token);
    return ctx;
}

Error ConsoleClient::toError(const grpc::Status& status) const {
    const QString details = QString::fromStdString(status.error_details());
    const QString message = QString::fromStdString(status.error_message());
    if (!details.isEmpty() && details.contains(u'.') && !details.contains(u' ') &&
        details.size() < 100) {
        return Error{details, message};
    }
    switch (status.error_code()) {
        case grpc::StatusCode::DEADLINE_EXCEEDED:
            return Error{QStringLiteral("server.timeout"),
                         QStringLiteral("otafleetd at %1 did not answer in time; check that it "
                                        "runs and the network is up.")
                             .arg(m_address)};
        case grpc::StatusCode::UNAVAILABLE:
            if (message.contains(QLatin1String("andshake")) ||
                message.contains(QLatin1String("SSL")) || message.contains(QLatin1String("ssl"))) {
                return Error{QStringLiteral("server.tls-rejected"),
                             QStringLiteral("TLS with %1 failed (%2); check that the server's "
                                            "certificate comes from this fleet's root and names "
                                            "this address.")
                                 .arg(m_address, message)};
            }
            return Error{QStringLiteral("server.unreachable"),
                         QStringLiteral("Cannot reach otafleetd at %1 (%2); check the address and "
                                        "that it runs.")
                             .arg(m_address, message)};
        case grpc::StatusCode::CANCELLED:
            // Not ours (the console's own cancels are never shown): the server shut down or
            // dropped the connection in the middle of the call.
            return Error{QStringLiteral("server.unreachable"),
                         QStringLiteral("otafleetd at %1 closed the connection during a call "
                                        "(%2); it may be restarting. Check that it runs.")
                             .arg(m_address, message)};
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
            return Error{
                QStringLiteral("server.too-large"),
                QStringLiteral("otafleetd refused a message as too large (%1).").arg(message)};
        default:
            return Error{QStringLiteral("server.protocol"),
                         QStringLiteral("otafleetd at %1 answered with an unexpected error (%2).")
                             .arg(m_address, message)};
    }
}

std::optional<cpb::Role> roleFromName(const QString& name) {
    if (name == u"viewer")
        return cpb::ROLE_VIEWER;
    if (name == u"technician")
        return cpb::ROLE_TECHNICIAN;
    if (name == u"release-manager")
        return cpb::ROLE_RELEASE_MANAGER;
    if (name == u"approver")
        return cpb::ROLE_APPROVER;
    if (name == u"admin")
        return cpb::ROLE_ADMIN;
    return std::nullopt;
}

QString roleToName(cpb::Role role) {
    switch (role) {
        case cpb::ROLE_VIEWER:
            return QStringLiteral("viewer");
        case cpb::ROLE_TECHNICIAN:
            return QStringLiteral("technician");
        case cpb::ROLE_RELEASE_MANAGER:
            return QStringLiteral("release-manager");
        case cpb::ROLE_APPROVER:
            return QStringLiteral("approver");
        case cpb::ROLE_ADMIN:
            return QStringLiteral("admin");
        default:
            return QStringLiteral("unknown");
    }
}

}  // namespace otafleet::client
