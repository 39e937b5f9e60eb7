// Short-lived bearer tokens of password logins, held in memory only: a restart signs everyone
// out, which is the safe direction. A token is 32 random bytes (base64url); only its SHA-256 is
// kept, so a memory dump does not hand out sessions.
#pragma once

#include "common/Error.h"

#include <QDateTime>
#include <QHash>
#include <QString>

#include <mutex>
#include <optional>

namespace otafleet::server {

class Tokens {
public:
    static constexpr int kMaxLive = 10000;

    explicit Tokens(int lifetimeSeconds) : m_lifetimeSeconds(lifetimeSeconds) {}

    struct Issued {
        QString token;
        QDateTime expires;
    };
    // Errors server.too-many-sessions (kMaxLive live tokens), server.random-failed.
    [[nodiscard]] Result<Issued> issue(const QString& user);
    // The user of a live token.
    [[nodiscard]] std::optional<QString> userOf(const QString& token);

private:
    struct Entry {
        QString user;
        QDateTime expires;
    };
    void dropExpired(const QDateTime& now);

    int m_lifetimeSeconds;
    std::mutex m_mutex;
    QHash<QByteArray, Entry> m_live;  // SHA-256 of the token -> entry
};

}  // namespace otafleet::server
