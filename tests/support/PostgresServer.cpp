#include "PostgresServer.h"

#include "ProcessRun.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace otafleet::test {
namespace {

constexpr int kToolTimeoutMs = 60'000;

// Debian puts the server's tools under /usr/lib/postgresql/<major>/bin, not on PATH.
QString findBinDir() {
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("pg_ctl"));
    if (!onPath.isEmpty())
        return QFileInfo(onPath).canonicalPath();
    const QDir versions(QStringLiteral("/usr/lib/postgresql"));
    QStringList majors = versions.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    std::sort(majors.begin(), majors.end(),
              [](const QString& a, const QString& b) { return a.toInt() > b.toInt(); });
    for (const QString& major : majors) {
        const QString bin = versions.filePath(major + QStringLiteral("/bin"));
        if (QFile::exists(bin + QStringLiteral("/initdb")))
            return bin;
    }
    return {};
}

bool giveTo(const QString& path, const QString& user) {
    const passwd* pw = ::getpwnam(user.toLocal8Bit().constData());
    return pw && ::chown(QFile::encodeName(path).constData(), pw->pw_uid, pw->pw_gid) == 0;
}

}  // namespace

PostgresServer::~PostgresServer() {
    if (m_running) {
        QString ignored;
        (void)run(QStringLiteral("pg_ctl"),
                  {QStringLiteral("-D"), m_dir.filePath(QStringLiteral("data")),
                   QStringLiteral("-m"), QStringLiteral("immediate"), QStringLiteral("stop")},
                  &ignored);
    }
}

bool PostgresServer::run(const QString& tool, const QStringList& args, QString* why) const {
    const QString program = m_binDir + u'/' + tool;
    const ProcessRun r =
        m_runAs.isEmpty()
            ? runProcess(program, args, kToolTimeoutMs)
            : runProcess(
                  QStringLiteral("runuser"),
                  QStringList{QStringLiteral("-u"), m_runAs, QStringLiteral("--"), program} + args,
                  kToolTimeoutMs);
    if (r.exitCode != 0) {
        *why = QStringLiteral("%1 failed: %2%3")
                   .arg(tool, QString::fromLocal8Bit(r.err).trimmed(),
                        QString::fromLocal8Bit(r.out).trimmed().right(400));
        return false;
    }
    return true;
}

bool PostgresServer::installed(QString* why) {
    if (findBinDir().isEmpty()) {
        *why = QStringLiteral(
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql "
            "or on PATH); installer/install-deps.sh installs it");
        return false;
    }
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL"))) {
        *why = QStringLiteral("Qt's PostgreSQL driver is not installed (libqt6sql6-psql)");
        return false;
    }
    return true;
}

bool PostgresServer::start(QString* why) {
    if (!installed(why))
        return false;
    m_binDir = findBinDir();
    if (!m_dir.isValid()) {
        *why = QStringLiteral("no temporary directory");
        return false;
    }
    const QString data = m_dir.filePath(QStringLiteral("data"));
    const QString socket = m_dir.filePath(QStringLiteral("socket"));
    if (!QDir().mkpath(data) || !QDir().mkpath(socket)) {
        *why = QStringLiteral("cannot create the data directory");
        return false;
    }
    if (::geteuid() == 0) {
        m_runAs = QStringLiteral("nobody");
        // The server's user must reach its directories; the temp dir is root's and 0700.
        ::chmod(QFile::encodeName(m_dir.path()).constData(), 0755);
        if (!giveTo(data, m_runAs) || !giveTo(socket, m_runAs)) {
            *why = QStringLiteral("cannot hand the data directory to user nobody");
            return false;
        }
    }
    ::chmod(QFile::encodeName(data).constData(), 0700);
    if (!run(QStringLiteral("initdb"),
             {QStringLiteral("-D"), data, QStringLiteral("-U"), QStringLiteral("otafleet"),
              QStringLiteral("--auth=trust"), QStringLiteral("--no-sync"),
              QStringLiteral("--no-locale"), QStringLiteral("-E"), QStringLiteral("UTF8")},
             why)) {
        return false;
    }
    // Only a Unix socket, so the port number just names the socket file; still random, so that
    // two tests on one machine never share a name.
    m_port = 20000 + int(QRandomGenerator::global()->bounded(40000));
    const QString options = QStringLiteral(
                                "-k %1 -p %2 -c listen_addresses='' -c fsync=off "
                                "-c synchronous_commit=off -c full_page_writes=off "
                                "-c shared_buffers=16MB -c max_connections=40")
                                .arg(socket)
                                .arg(m_port);
    if (!run(QStringLiteral("pg_ctl"),
             {QStringLiteral("-D"), data, QStringLiteral("-l"),
              m_dir.filePath(QStringLiteral("socket/server.log")), QStringLiteral("-w"),
              QStringLiteral("-t"), QStringLiteral("30"), QStringLiteral("-o"), options,
              QStringLiteral("start")},
             why)) {
        *why +=
            QStringLiteral(" (log: %1)")
                .arg(QString::fromLocal8Bit(readAll(m_dir.filePath(QStringLiteral("server.log"))))
                         .right(600));
        return false;
    }
    m_running = true;
    return true;
}

QString PostgresServer::urlFor(const QString& database) const {
    return QStringLiteral("postgresql://otafleet@/%1?host=%2&port=%3")
        .arg(database, m_dir.filePath(QStringLiteral("socket")))
        .arg(m_port);
}

bool PostgresServer::execute(const QString& url, const QString& statement, QString* why) {
    const QString name = QStringLiteral("pg-test-%1").arg(++m_connections);
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
        const QUrl parsed(url);
        db.setDatabaseName(parsed.path().mid(1));
        const QString options =
            QUrlQuery(parsed).queryItemValue(QStringLiteral("options"), QUrl::FullyDecoded);
        if (!options.isEmpty())
            db.setConnectOptions(QStringLiteral("options=%1").arg(options));
        db.setHostName(m_dir.filePath(QStringLiteral("socket")));
        db.setPort(m_port);
        db.setUserName(QStringLiteral("otafleet"));
        if (!db.open()) {
            *why = db.lastError().text();
        } else {
            QSqlQuery query(db);
            ok = query.exec(statement);
            if (!ok)
                *why = query.lastError().text();
            db.close();
        }
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

QString PostgresServer::createDatabase(QString* why) {
    // A schema per store in one database: as separate as a database for the store (every name
    // it uses resolves through search_path) and far cheaper to make than CREATE DATABASE.
    const QString schema = QStringLiteral("fleet_%1").arg(++m_databases);
    if (!execute(urlFor(QStringLiteral("postgres")), QStringLiteral("CREATE SCHEMA %1").arg(schema),
                 why)) {
        return {};
    }
    return urlFor(QStringLiteral("postgres")) +
           QStringLiteral("&options=-csearch_path%3D%1").arg(schema);
}

}  // namespace otafleet::test
