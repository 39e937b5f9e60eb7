// A real PostgreSQL server for store tests: initdb in a temp dir, started with pg_ctl on a
// Unix socket only (no TCP port), trust authentication for its own superuser `otafleet`, and
// stopped (immediately) when the object goes away. PostgreSQL refuses to run as root, so under
// root (CI containers) the server runs as the unprivileged user `nobody` through runuser.
// Where PostgreSQL or Qt's QPSQL driver is not installed, start() says why and tests skip.
#pragma once

#include <QString>
#include <QTemporaryDir>

namespace otafleet::test {

class PostgresServer {
public:
    PostgresServer() = default;
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // Whether PostgreSQL's server tools and Qt's QPSQL driver are installed (else why not):
    // tests skip when they are not, and fail when they are but the server does not start.
    [[nodiscard]] static bool installed(QString* why);
    // False with a sentence in *why when the server did not start.
    [[nodiscard]] bool start(QString* why);
    // A new, empty place for one store (a schema of its own) as a postgresql:// URL, or an
    // empty string (reason in *why).
    [[nodiscard]] QString createDatabase(QString* why);
    // Runs one SQL statement in a database given by its URL, as an attacker with access would.
    [[nodiscard]] bool execute(const QString& url, const QString& statement, QString* why);

private:
    [[nodiscard]] bool run(const QString& tool, const QStringList& args, QString* why) const;
    [[nodiscard]] QString urlFor(const QString& database) const;

    QTemporaryDir m_dir;
    QString m_binDir;
    QString m_runAs;  // "nobody" under root, else empty
    int m_port = 0;
    int m_databases = 0;
    int m_connections = 0;
    bool m_running = false;
};

}  // namespace otafleet::test
