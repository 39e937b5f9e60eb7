// otafleetctl user ... and audit ...: otafleetd's users and its hash-chained audit log.
#include "Cli.h"
#include "ServerConnection.h"

#include "crypto/SecretString.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

namespace otafleet::cli {
namespace {

const QCommandLineOption kRole(QStringLiteral("role"),
                               QStringLiteral("viewer, technician, release-manager, approver or "
                                              "admin."),
                               QStringLiteral("ROLE"));
const QCommandLineOption kNewPasswordEnv(
    QStringLiteral("new-password-env"),
    QStringLiteral("Environment variable holding the new user's password (8 to 1024 bytes) "
                   "when you signed in with --user; with --pki, --password-env names it."),
    QStringLiteral("VAR"));
const QCommandLineOption kAfter(QStringLiteral("after"), QStringLiteral("Only entries after id N."),
                                QStringLiteral("N"), QStringLiteral("0"));
const QCommandLineOption kLimit(QStringLiteral("limit"),
                                QStringLiteral("Show at most N entries (1-1000)."),
                                QStringLiteral("N"), QStringLiteral("100"));
const QCommandLineOption kOutput(QStringLiteral("output"),
                                 QStringLiteral("Write the export to FILE instead of stdout."),
                                 QStringLiteral("FILE"));

using Runner = std::function<int(const QCommandLineParser&, ServerConnection&, bool json)>;

Command serverCommand(const QString& group, const QString& name, const QString& summary,
                      const QString& synopsis, QList<QCommandLineOption> extra, Runner run) {
    return Command{group,
                   name,
                   summary,
                   synopsis,
                   [extra](QCommandLineParser& p) {
                       p.addOptions(serverOptions());
                       p.addOptions(extra);
                   },
                   [run](const QCommandLineParser& p) {
                       const bool json = p.isSet(kServerJson);
                       auto connection = openServerConnection(p);
                       if (!connection) {
                           if (connection.error().code == u"cli.usage")
                               return usageError(connection.error().message);
                           return failWith(connection.error(), json);
                       }
                       return run(p, **connection, json);
                   }};
}

QJsonObject userJson(const cpb::User& u) {
    return QJsonObject{{QStringLiteral("name"), QString::fromStdString(u.name())},
                       {QStringLiteral("role"), roleToName(u.role())},
                       {QStringLiteral("disabled"), u.disabled()},
                       {QStringLiteral("certificate_bound"), u.certificate_bound()},
                       {QStringLiteral("created"), isoTime(u.created_unix_ms())}};
}

QJsonObject entryJson(const cpb::AuditEntry& e) {
    return QJsonObject{{QStringLiteral("id"), static_cast<double>(e.id())},
                       {QStringLiteral("time"), isoTime(e.time_unix_ms())},
                       {QStringLiteral("actor"), QString::fromStdString(e.actor())},
                       {QStringLiteral("subject"), QString::fromStdString(e.subject())},
                       {QStringLiteral("action"), QString::fromStdString(e.action())},
                       {QStringLiteral("detail"), QString::fromStdString(e.detail())},
                       {QStringLiteral("prev_hash"), QString::fromStdString(e.prev_hash())},
                       {QStringLiteral("entry_hash"), QString::fromStdString(e.entry_hash())}};
}

int printUser(const Result<cpb::User>& user, bool json, const QString& headline) {
    if (!user)
        return failWith(user.error(), json);
    if (json)
        printJson(QJsonObject{{QStringLiteral("user"), userJson(*user)}});
    else
        printText(QStringLiteral("%1: %2 (%3%4)")
                      .arg(headline, QString::fromStdString(user->name()), roleToName(user->role()),
                           user->disabled() ? QStringLiteral(", disabled") : QString()));
    return kSuccess;
}

Result<cpb::Role> roleOption(const QCommandLineParser& p) {
    if (!p.isSet(kRole))
        return fail(QStringLiteral("cli.usage"), QStringLiteral("--role ROLE is required."));
    const auto role = roleFromName(p.value(kRole));
    if (!role) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("--role must be viewer, technician, release-manager, approver "
                                   "or admin."));
    }
    return *role;
}

int oneName(const QCommandLineParser& p, QString& name) {
    if (p.positionalArguments().size() != 1)
        return usageError(QStringLiteral("give exactly one user NAME"));
    name = p.positionalArguments().first();
    return kSuccess;
}

int runUserAdd(const QCommandLineParser& p, ServerConnection& c, bool json) {
    QString name;
    if (int rc = oneName(p, name); rc != kSuccess)
        return rc;
    auto role = roleOption(p);
    if (!role)
        return usageError(role.error().message);
    // Signed in with --pki, --password-env names the new user's password; after a password
    // login it is the caller's own, and the new one comes from --new-password-env.
    const QString passwordEnv = p.isSet(kNewPasswordEnv) ? p.value(kNewPasswordEnv)
                                : p.isSet(kServerPki)    ? p.value(kServerPasswordEnv)
                                                         : QString();
    if (passwordEnv.isEmpty()) {
        return usageError(
            QStringLiteral("give the new user's password with --password-env VAR "
                           "(with --pki) or --new-password-env VAR"));
    }
    auto secret = crypto::SecretString::fromEnvironment(passwordEnv);
    if (!secret)
        return failWith(secret.error(), json);
    cpb::AddUserRequest request;
    request.set_name(name.toStdString());
    request.set_role(*role);
    request.set_password(std::string(secret->c_str(), size_t(secret->size())));
    auto reply = c.call(&cpb::ConsoleService::Stub::AddUser, request);
    std::fill(request.mutable_password()->begin(), request.mutable_password()->end(), '\0');
    return printUser(reply, json, QStringLiteral("added"));
}

int runUserList(const QCommandLineParser&, ServerConnection& c, bool json) {
    auto reply = c.call(&cpb::ConsoleService::Stub::ListUsers, cpb::ListUsersRequest());
    if (!reply)
        return failWith(reply.error(), json);
    QJsonArray users;
    QString text;
    for (const cpb::User& u : reply->users()) {
        users.append(userJson(u));
        text += QStringLiteral("%1  %2%3%4\n")
                    .arg(QString::fromStdString(u.name()).leftJustified(24), roleToName(u.role()),
                         u.certificate_bound() ? QStringLiteral("  (certificate)") : QString(),
                         u.disabled() ? QStringLiteral("  DISABLED") : QString());
    }
    if (json)
        printJson(QJsonObject{{QStringLiteral("users"), users}});
    else
        printText(text.isEmpty() ? QStringLiteral("no users") : text);
    return kSuccess;
}

int runUserSetRole(const QCommandLineParser& p, ServerConnection& c, bool json) {
    QString name;
    if (int rc = oneName(p, name); rc != kSuccess)
        return rc;
    auto role = roleOption(p);
    if (!role)
        return usageError(role.error().message);
    cpb::SetUserRoleRequest request;
    request.set_name(name.toStdString());
    request.set_role(*role);
    return printUser(c.call(&cpb::ConsoleService::Stub::SetUserRole, request), json,
                     QStringLiteral("changed"));
}

int runUserDisable(const QCommandLineParser& p, ServerConnection& c, bool json) {
    QString name;
    if (int rc = oneName(p, name); rc != kSuccess)
        return rc;
    cpb::DisableUserRequest request;
    request.set_name(name.toStdString());
    return printUser(c.call(&cpb::ConsoleService::Stub::DisableUser, request), json,
                     QStringLiteral("disabled"));
}

int runAuditList(const QCommandLineParser& p, ServerConnection& c, bool json) {
    bool okAfter = false;
    bool okLimit = false;
    const qint64 after = p.value(kAfter).toLongLong(&okAfter);
    const uint limit = p.value(kLimit).toUInt(&okLimit);
    if (!okAfter || after < 0 || !okLimit || limit < 1 || limit > 1000)
        return usageError(QStringLiteral("--after must be >= 0 and --limit 1 to 1000"));
    cpb::ListAuditRequest request;
    request.set_after_id(after);
    request.set_page_size(limit);
    auto reply = c.call(&cpb::ConsoleService::Stub::ListAudit, request);
    if (!reply)
        return failWith(reply.error(), json);
    QJsonArray entries;
    QString text;
    for (const cpb::AuditEntry& e : reply->entries()) {
        entries.append(entryJson(e));
        text += QStringLiteral("%1  %2  %3  %4  %5  %6\n")
                    .arg(e.id())
                    .arg(isoTime(e.time_unix_ms()), QString::fromStdString(e.actor()),
                         QString::fromStdString(e.action()), QString::fromStdString(e.subject()),
                         QString::fromStdString(e.detail()));
    }
    if (json)
        printJson(QJsonObject{{QStringLiteral("entries"), entries},
                              {QStringLiteral("more"), reply->more()}});
    else
        printText(text.isEmpty() ? QStringLiteral("no entries") : text);
    return kSuccess;
}

int runAuditExport(const QCommandLineParser& p, ServerConnection& c, bool json) {
    QJsonArray entries;
    qint64 after = 0;
    for (;;) {
        cpb::ListAuditRequest request;
        request.set_after_id(after);
        request.set_page_size(1000);
        auto reply = c.call(&cpb::ConsoleService::Stub::ListAudit, request);
        if (!reply)
            return failWith(reply.error(), json);
        for (const cpb::AuditEntry& e : reply->entries()) {
            entries.append(entryJson(e));
            after = e.id();
        }
        if (!reply->more() || reply->entries().empty())
            break;
    }
    const QJsonObject document{{QStringLiteral("entries"), entries},
                               {QStringLiteral("count"), entries.size()}};
    if (p.isSet(kOutput)) {
        QFile file(p.value(kOutput));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            file.write(QJsonDocument(document).toJson()) < 0) {
            return failWith(Error{QStringLiteral("io.write-failed"),
                                  QStringLiteral("Could not write %1.").arg(p.value(kOutput))},
                            json);
        }
        printText(
            QStringLiteral("exported %1 entries to %2").arg(entries.size()).arg(p.value(kOutput)));
        return kSuccess;
    }
    printJson(document);
    return kSuccess;
}

int runAuditVerify(const QCommandLineParser&, ServerConnection& c, bool json) {
    auto reply = c.call(&cpb::ConsoleService::Stub::VerifyAudit, cpb::VerifyAuditRequest());
    if (!reply)
        return failWith(reply.error(), json);
    if (json) {
        printJson(QJsonObject{
            {QStringLiteral("intact"), reply->intact()},
            {QStringLiteral("entries"), static_cast<double>(reply->entries())},
            {QStringLiteral("first_bad_id"), static_cast<double>(reply->first_bad_id())},
            {QStringLiteral("reason"), QString::fromStdString(reply->reason())}});
    }
    if (!reply->intact()) {
        printError(Error{QStringLiteral("audit.tampered"),
                         QString::fromStdString(reply->reason()) +
                             QStringLiteral(" Restore the database from a backup and find out who "
                                            "had access to it.")});
        return kFailure;
    }
    if (!json)
        printText(QStringLiteral("audit log intact: %1 entries").arg(reply->entries()));
    return kSuccess;
}

}  // namespace

Command serverCommandFor(
    const QString& group, const QString& name, const QString& summary, const QString& synopsis,
    QList<QCommandLineOption> extra,
    std::function<int(const QCommandLineParser&, ServerConnection&, bool)> run) {
    return serverCommand(group, name, summary, synopsis, std::move(extra), std::move(run));
}

QList<Command> userAuditCommands() {
    return {
        serverCommand(QStringLiteral("user"), QStringLiteral("add"),
                      QStringLiteral("Add a user with a role and a password (admin)."),
                      QStringLiteral("NAME"), {kRole, kNewPasswordEnv}, runUserAdd),
        serverCommand(QStringLiteral("user"), QStringLiteral("list"),
                      QStringLiteral("List the server's users and their roles (admin)."), {}, {},
                      runUserList),
        serverCommand(QStringLiteral("user"), QStringLiteral("set-role"),
                      QStringLiteral("Change a user's role (admin)."), QStringLiteral("NAME"),
                      {kRole}, runUserSetRole),
        serverCommand(QStringLiteral("user"), QStringLiteral("disable"),
                      QStringLiteral("Disable a user; they can no longer sign in (admin)."),
                      QStringLiteral("NAME"), {}, runUserDisable),
        serverCommand(QStringLiteral("audit"), QStringLiteral("list"),
                      QStringLiteral("Show audit entries, oldest first (approver, admin)."), {},
                      {kAfter, kLimit}, runAuditList),
        serverCommand(QStringLiteral("audit"), QStringLiteral("verify"),
                      QStringLiteral("Check the audit log's hash chain; names the first altered "
                                     "entry (approver, admin)."),
                      {}, {}, runAuditVerify),
        serverCommand(QStringLiteral("audit"), QStringLiteral("export"),
                      QStringLiteral("Export the whole audit log as JSON (approver, admin)."), {},
                      {kOutput}, runAuditExport),
    };
}

}  // namespace otafleet::cli
