#include "ServerConnection.h"

#include "common/AtomicFile.h"
#include "crypto/SecretString.h"

#include <QDateTime>
#include <QDir>

namespace otafleet::cli {

const QCommandLineOption kServerOpt(QStringLiteral("server"),
                                    QStringLiteral("otafleetd's address."),
                                    QStringLiteral("HOST:PORT"));
const QCommandLineOption kServerPki(QStringLiteral("pki"),
                                    QStringLiteral("PKI directory: its root CA and operator "
                                                   "certificate (the admin's sign-in)."),
                                    QStringLiteral("PKI"));
const QCommandLineOption kServerCa(QStringLiteral("ca"),
                                   QStringLiteral("Fleet root CA PEM the server's certificate "
                                                  "must chain to (with --user)."),
                                   QStringLiteral("ROOT.pem"));
const QCommandLineOption kServerUser(QStringLiteral("user"),
                                     QStringLiteral("User name for a password login."),
                                     QStringLiteral("NAME"));
const QCommandLineOption kServerPasswordEnv(QStringLiteral("password-env"),
                                            QStringLiteral("Environment variable holding the "
                                                           "password."),
                                            QStringLiteral("VAR"));
const QCommandLineOption kServerJson(QStringLiteral("json"), QStringLiteral("Print JSON."));

QList<QCommandLineOption> serverOptions() {
    return {kServerOpt, kServerPki, kServerCa, kServerUser, kServerPasswordEnv, kServerJson};
}

namespace {

constexpr qint64 kMaxPem = 1024 * 1024;

Result<std::string> readPem(const QString& path) {
    auto bytes = readFileBounded(path, kMaxPem);
    if (!bytes)
        return fail(bytes.error());
    return bytes->toStdString();
}

}  // namespace

Result<std::unique_ptr<ServerConnection>> ServerConnection::open(const QCommandLineParser& p) {
    if (!p.isSet(kServerOpt)) {
        return fail(QStringLiteral("cli.usage"), QStringLiteral("--server HOST:PORT is required."));
    }
    // With --pki, --password-env is not a login: `user add` reads the new user's password there.
    const bool password = p.isSet(kServerUser) || p.isSet(kServerCa);
    if (p.isSet(kServerPki) == password ||
        (password &&
         !(p.isSet(kServerCa) && p.isSet(kServerUser) && p.isSet(kServerPasswordEnv)))) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("Give either --pki PKI (operator certificate) or --ca ROOT.pem "
                                   "--user NAME --password-env VAR (password login)."));
    }
    grpc::SslCredentialsOptions tls;
    if (p.isSet(kServerPki)) {
        const QDir pki(p.value(kServerPki));
        auto root = readPem(pki.filePath(QStringLiteral("root-ca.pem")));
        auto cert = readPem(pki.filePath(QStringLiteral("operator.pem")));
        auto key = readPem(pki.filePath(QStringLiteral("operator.key")));
        for (const auto* r : {&root, &cert, &key}) {
            if (!*r)
                return fail(r->error());
        }
        tls.pem_root_certs = *root;
        tls.pem_cert_chain = *cert;
        tls.pem_private_key = *key;
    } else {
        auto root = readPem(p.value(kServerCa));
        if (!root)
            return fail(root.error());
        tls.pem_root_certs = *root;
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(int(kMaxMessage));
    args.SetMaxSendMessageSize(int(kMaxMessage));
    std::unique_ptr<ServerConnection> c(new ServerConnection());
    c->m_target = p.value(kServerOpt);
    c->m_channel =
        grpc::CreateCustomChannel(c->m_target.toStdString(), grpc::SslCredentials(tls), args);
    c->m_stub = cpb::ConsoleService::NewStub(c->m_channel);
    if (password) {
        auto secret = crypto::SecretString::fromEnvironment(p.value(kServerPasswordEnv));
        if (!secret)
            return fail(secret.error());
        cpb::LoginRequest login;
        login.set_user(p.value(kServerUser).toStdString());
        login.set_password(std::string(secret->c_str(), size_t(secret->size())));
        auto reply = c->call(&cpb::ConsoleService::Stub::Login, login);
        std::fill(login.mutable_password()->begin(), login.mutable_password()->end(), '\0');
        if (!reply)
            return fail(reply.error());
        c->m_token = reply->token();
    }
    return c;
}

std::unique_ptr<grpc::ClientContext> ServerConnection::context(
    std::chrono::seconds deadline) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + deadline);
    if (!m_token.empty())
        ctx->AddMetadata("authorization", "Bearer " + m_token);
    return ctx;
}

Error ServerConnection::toError(const grpc::Status& status) const {
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
                             .arg(m_target)};
        case grpc::StatusCode::UNAVAILABLE:
            if (message.contains(QLatin1String("andshake")) ||
                message.contains(QLatin1String("SSL")) || message.contains(QLatin1String("ssl"))) {
                return Error{QStringLiteral("server.tls-rejected"),
                             QStringLiteral("TLS with %1 failed (%2); check that the server's "
                                            "certificate comes from this fleet's root and names "
                                            "this address.")
                                 .arg(m_target, message)};
            }
            return Error{QStringLiteral("server.unreachable"),
                         QStringLiteral("Cannot reach otafleetd at %1 (%2); check the address and "
                                        "that it runs.")
                             .arg(m_target, message)};
        case grpc::StatusCode::RESOURCE_EXHAUSTED:
            return Error{
                QStringLiteral("server.too-large"),
                QStringLiteral("otafleetd refused a message as too large (%1).").arg(message)};
        default:
            return Error{QStringLiteral("server.protocol"),
                         QStringLiteral("otafleetd at %1 answered with an unexpected error (%2).")
                             .arg(m_target, message)};
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

QString isoTime(qint64 unixMs) {
    if (unixMs <= 0)
        return QString();
    return QDateTime::fromMSecsSinceEpoch(unixMs, Qt::UTC).toString(Qt::ISODateWithMs);
}

}  // namespace otafleet::cli
