#include "server/ConsoleService.h"

#include "crypto/Certificate.h"
#include "server/RequestCheck.h"
#include "server/ServerLogging.h"
#include "store/PasswordHash.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>

Q_LOGGING_CATEGORY(lcServer, "otafleet.server")

namespace otafleet::server {
namespace {

using store::FleetStore;
using store::Role;
using store::UserRecord;

std::string str(const QString& s) {
    return s.toStdString();
}

cpb::Role toProto(Role role) {
    switch (role) {
        case Role::Viewer:
            return cpb::ROLE_VIEWER;
        case Role::Technician:
            return cpb::ROLE_TECHNICIAN;
        case Role::ReleaseManager:
            return cpb::ROLE_RELEASE_MANAGER;
        case Role::Approver:
            return cpb::ROLE_APPROVER;
        case Role::Admin:
            return cpb::ROLE_ADMIN;
    }
    return cpb::ROLE_UNSPECIFIED;
}

void fillUser(const UserRecord& u, cpb::User* out) {
    out->set_name(str(u.name));
    out->set_role(toProto(u.role));
    out->set_disabled(u.disabled);
    out->set_certificate_bound(!u.certSha256.isEmpty());
    out->set_created_unix_ms(u.created.toMSecsSinceEpoch());
}

QString userSubject(const std::string& name) {
    return QStringLiteral("user:%1").arg(QString::fromStdString(name.substr(0, 64)));
}

std::unexpected<Error> loginFailed() {
    return fail(QStringLiteral("server.login-failed"),
                QStringLiteral("The user name or password is wrong, or the user is disabled."));
}

}  // namespace

grpc::StatusCode grpcCodeFor(const QString& code) {
    if (code == u"server.permission-denied" || code == u"server.decommissioned" ||
        code == u"server.device-mismatch" || code == u"server.not-offered") {
        return grpc::StatusCode::PERMISSION_DENIED;
    }
    if (code == u"server.unauthenticated" || code == u"server.token-invalid" ||
        code == u"server.user-disabled" || code == u"server.login-failed" ||
        code == u"server.not-a-device") {
        return grpc::StatusCode::UNAUTHENTICATED;
    }
    if (code == u"server.release-too-large" || code == u"server.too-many-sessions" ||
        code == u"server.busy" || code == u"store.too-many-tags" ||
        code == u"server.chunk-too-large") {
        return grpc::StatusCode::RESOURCE_EXHAUSTED;
    }
    if (code.startsWith(u"server.invalid-") || code == u"store.password-invalid" ||
        code == u"store.invalid-input" || code == u"server.upload-protocol" ||
        code == u"server.upload-truncated" || code.startsWith(u"bundle.") ||
        code.startsWith(u"crypto.") || code.startsWith(u"filter.")) {
        return grpc::StatusCode::INVALID_ARGUMENT;
    }
    if (code == u"rollout.targets" || code.startsWith(u"plan."))
        return grpc::StatusCode::INVALID_ARGUMENT;
    if (code == u"store.not-found" || code == u"server.unknown-rollout")
        return grpc::StatusCode::NOT_FOUND;
    if (code.startsWith(u"rollout.") || code == u"server.no-targets" ||
        code == u"server.incompatible-target") {
        return grpc::StatusCode::FAILED_PRECONDITION;
    }
    if (code == u"server.unavailable" || code == u"server.store-failed")
        return grpc::StatusCode::UNAVAILABLE;
    if (code == u"store.duplicate")
        return grpc::StatusCode::ALREADY_EXISTS;
    if (code == u"store.already-revoked" || code == u"server.release-revoked" ||
        code == u"server.last-admin") {
        return grpc::StatusCode::FAILED_PRECONDITION;
    }
    return grpc::StatusCode::INTERNAL;
}

grpc::Status toGrpcStatus(const Error& error) {
    return grpc::Status(grpcCodeFor(error.code), str(error.message), str(error.code));
}

grpc::ServerUnaryReactor* finishUnary(grpc::CallbackServerContext* context, const Status& result) {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(result ? grpc::Status::OK : toGrpcStatus(result.error()));
    return reactor;
}

ConsoleService::ConsoleService(StoreWorker& store, Tokens& tokens, ServerConfig config,
                               crypto::TrustStore releaseTrust)
    : m_store(store),
      m_tokens(tokens),
      m_config(std::move(config)),
      m_releaseTrust(std::move(releaseTrust)) {}

Status ConsoleService::audit(const QString& actor, const QString& subject, const QString& action,
                             const QString& detail) {
    auto appended = m_store.run(
        [&](FleetStore& s) { return s.audit().append(actor, subject, action, detail); });
    if (!appended) {
        qCCritical(lcServer).noquote()
            << "audit entry lost:" << action << subject << appended.error().toString();
        return fail(appended.error());
    }
    return {};
}

Result<Caller> ConsoleService::identify(const grpc::CallbackServerContext* context) {
    const auto& metadata = context->client_metadata();
    const auto bearer = metadata.find("authorization");
    std::optional<UserRecord> user;
    if (bearer != metadata.end()) {
        const QString value = QString::fromUtf8(
            bearer->second.data(), qsizetype(std::min<size_t>(bearer->second.size(), 256)));
        const auto name = value.startsWith(QLatin1String("Bearer ")) ? m_tokens.userOf(value.mid(7))
                                                                     : std::nullopt;
        if (!name) {
            return fail(QStringLiteral("server.token-invalid"),
                        QStringLiteral("The session has expired or is unknown to this server; "
                                       "log in again."));
        }
        auto record = m_store.run([&](FleetStore& s) { return s.users().get(*name); });
        if (!record)
            return fail(record.error());
        user = *record;
    } else {
        const auto auth = context->auth_context();
        const auto pems = auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
                               : std::vector<grpc::string_ref>{};
        if (!pems.empty()) {
            auto cert = crypto::Certificate::fromPem(
                QByteArrayView(pems.front().data(), qsizetype(pems.front().size())));
            if (cert) {
                const QString fingerprint = cert->sha256Fingerprint();
                auto found = m_store.run(
                    [&](FleetStore& s) { return s.users().findByCertificate(fingerprint); });
                if (!found)
                    return fail(found.error());
                user = *found;
            }
        }
        if (!user) {
            return fail(QStringLiteral("server.unauthenticated"),
                        QStringLiteral("Sign in first: present an operator certificate bound to a "
                                       "user (--pki) or log in with --user and --password-env."));
        }
    }
    if (user->disabled) {
        (void)audit(user->name, userSubject(str(user->name)), QStringLiteral("denied:disabled"),
                    QStringLiteral("a disabled user tried to act"));
        return fail(QStringLiteral("server.user-disabled"),
                    QStringLiteral("User %1 is disabled; ask an admin.").arg(user->name));
    }
    return Caller{user->name, user->role};
}

Result<Caller> ConsoleService::authorize(const grpc::CallbackServerContext* context, Action action,
                                         const QString& subject) {
    auto caller = identify(context);
    if (!caller)
        return caller;
    if (allowed(caller->role, action))
        return caller;
    const QString name = actionName(action);
    (void)audit(caller->name, subject, QStringLiteral("denied:%1").arg(name),
                QStringLiteral("role %1 may not %2").arg(store::roleName(caller->role), name));
    QStringList roles;
    for (Role r : allowedRoles(action))
        roles << store::roleName(r);
    return fail(QStringLiteral("server.permission-denied"),
                QStringLiteral("Role %1 may not %2 (allowed: %3); ask an admin for a role that "
                               "may.")
                    .arg(store::roleName(caller->role), name, roles.join(QStringLiteral(", "))));
}

grpc::ServerUnaryReactor* ConsoleService::Login(grpc::CallbackServerContext* c,
                                                const cpb::LoginRequest* r,
                                                cpb::LoginReply* reply) {
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString name = QString::fromStdString(r->user());
    auto user = m_store.run([&](FleetStore& s) { return s.users().get(name); });
    // Unknown, disabled and certificate-only users cost the same scrypt run as a real one: how
    // long a refusal takes must not tell which user names exist.
    static const QString decoy =
        store::PasswordHash::make("otafleet decoy password, matches nothing").value_or(QString());
    const bool hasPassword = user && !user->passwordHash.isEmpty();
    const bool matches = store::PasswordHash::matches(QByteArray::fromStdString(r->password()),
                                                      hasPassword ? user->passwordHash : decoy);
    const bool good = hasPassword && !user->disabled && matches;
    if (!good) {
        (void)audit(name, userSubject(r->user()), QStringLiteral("login.refused"),
                    QStringLiteral("peer %1").arg(QString::fromStdString(c->peer())));
        return finishUnary(c, loginFailed());
    }
    auto token = m_tokens.issue(user->name);
    if (!token)
        return finishUnary(c, fail(token.error()));
    reply->set_token(str(token->token));
    reply->set_expires_unix_ms(token->expires.toMSecsSinceEpoch());
    fillUser(*user, reply->mutable_user());
    return finishUnary(c, audit(user->name, userSubject(r->user()), QStringLiteral("login"),
                                QStringLiteral("password")));
}

grpc::ServerUnaryReactor* ConsoleService::WhoAmI(grpc::CallbackServerContext* c,
                                                 const cpb::WhoAmIRequest*, cpb::User* reply) {
    auto caller = authorize(c, Action::WhoAmI, QString());
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto user = m_store.run([&](FleetStore& s) { return s.users().get(caller->name); });
    if (!user)
        return finishUnary(c, fail(user.error()));
    fillUser(*user, reply);
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::AddUser(grpc::CallbackServerContext* c,
                                                  const cpb::AddUserRequest* r, cpb::User* reply) {
    auto caller = authorize(c, Action::UserAdd, userSubject(r->name()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto role = checkRequest(*r);
    if (!role)
        return finishUnary(c, fail(role.error()));
    auto hash = store::PasswordHash::make(QByteArray::fromStdString(r->password()));
    if (!hash)
        return finishUnary(c, fail(hash.error()));
    UserRecord record{QString::fromStdString(r->name()), *role, *hash, QString(), false,
                      QDateTime::currentDateTimeUtc()};
    auto added = m_store.run([&](FleetStore& s) -> Result<UserRecord> {
        if (auto ok = s.users().add(record); !ok)
            return fail(ok.error());
        return s.users().get(record.name);
    });
    if (!added)
        return finishUnary(c, fail(added.error()));
    fillUser(*added, reply);
    return finishUnary(c, audit(caller->name, userSubject(r->name()), QStringLiteral("user.add"),
                                QStringLiteral("role %1").arg(store::roleName(*role))));
}

grpc::ServerUnaryReactor* ConsoleService::ListUsers(grpc::CallbackServerContext* c,
                                                    const cpb::ListUsersRequest*,
                                                    cpb::UserList* reply) {
    auto caller = authorize(c, Action::UserList, QStringLiteral("users"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto users = m_store.run([](FleetStore& s) { return s.users().all(); });
    if (!users)
        return finishUnary(c, fail(users.error()));
    for (const UserRecord& u : *users)
        fillUser(u, reply->add_users());
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::SetUserRole(grpc::CallbackServerContext* c,
                                                      const cpb::SetUserRoleRequest* r,
                                                      cpb::User* reply) {
    auto caller = authorize(c, Action::UserSetRole, userSubject(r->name()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto role = checkRequest(*r);
    if (!role)
        return finishUnary(c, fail(role.error()));
    const QString name = QString::fromStdString(r->name());
    auto changed = m_store.run([&](FleetStore& s) -> Result<UserRecord> {
        if (auto ok = s.users().setRole(name, *role); !ok)
            return fail(ok.error());
        return s.users().get(name);
    });
    if (!changed)
        return finishUnary(c, fail(changed.error()));
    fillUser(*changed, reply);
    return finishUnary(c,
                       audit(caller->name, userSubject(r->name()), QStringLiteral("user.set-role"),
                             QStringLiteral("role %1").arg(store::roleName(*role))));
}

grpc::ServerUnaryReactor* ConsoleService::DisableUser(grpc::CallbackServerContext* c,
                                                      const cpb::DisableUserRequest* r,
                                                      cpb::User* reply) {
    auto caller = authorize(c, Action::UserDisable, userSubject(r->name()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString name = QString::fromStdString(r->name());
    if (name == caller->name) {
        return finishUnary(c, fail(QStringLiteral("server.last-admin"),
                                   QStringLiteral("You cannot disable yourself; another admin "
                                                  "must do it.")));
    }
    auto changed = m_store.run([&](FleetStore& s) -> Result<UserRecord> {
        if (auto ok = s.users().setDisabled(name, true); !ok)
            return fail(ok.error());
        return s.users().get(name);
    });
    if (!changed)
        return finishUnary(c, fail(changed.error()));
    fillUser(*changed, reply);
    return finishUnary(
        c, audit(caller->name, userSubject(r->name()), QStringLiteral("user.disable"), QString()));
}

grpc::ServerUnaryReactor* ConsoleService::ListAudit(grpc::CallbackServerContext* c,
                                                    const cpb::ListAuditRequest* r,
                                                    cpb::AuditPage* reply) {
    auto caller = authorize(c, Action::AuditList, QStringLiteral("audit"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const int size = static_cast<int>(r->page_size());
    // One more than asked tells whether there is more.
    auto entries = m_store.run([&](FleetStore& s) {
        return s.audit().list(r->after_id(), std::min(size + 1, store::AuditLog::kMaxPage));
    });
    if (!entries)
        return finishUnary(c, fail(entries.error()));
    for (qsizetype i = 0; i < entries->size() && i < size; ++i) {
        const store::AuditEntry& e = entries->at(i);
        cpb::AuditEntry* out = reply->add_entries();
        out->set_id(e.id);
        out->set_time_unix_ms(e.time.toMSecsSinceEpoch());
        out->set_actor(str(e.actor));
        out->set_subject(str(e.subject));
        out->set_action(str(e.action));
        out->set_detail(str(e.detail));
        out->set_prev_hash(str(e.prevHash));
        out->set_entry_hash(str(e.entryHash));
    }
    reply->set_more(entries->size() > size);
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::VerifyAudit(grpc::CallbackServerContext* c,
                                                      const cpb::VerifyAuditRequest*,
                                                      cpb::AuditVerdict* reply) {
    auto caller = authorize(c, Action::AuditVerify, QStringLiteral("audit"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto verdict = m_store.run([](FleetStore& s) { return s.audit().verify(); });
    if (!verdict)
        return finishUnary(c, fail(verdict.error()));
    reply->set_intact(verdict->intact);
    reply->set_entries(verdict->entries);
    reply->set_first_bad_id(verdict->firstBadId);
    reply->set_reason(str(verdict->reason));
    return finishUnary(c, {});
}

}  // namespace otafleet::server
