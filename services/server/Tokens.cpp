#include "server/Tokens.h"

#include <QCryptographicHash>

#include <openssl/rand.h>

namespace otafleet::server {
namespace {

constexpr int kTokenBytes = 32;

QByteArray digest(const QString& token) {
    return QCryptographicHash::hash(token.toLatin1(), QCryptographicHash::Sha256);
}

}  // namespace

void Tokens::dropExpired(const QDateTime& now) {
    for (auto it = m_live.begin(); it != m_live.end();) {
        if (it->expires <= now)
            it = m_live.erase(it);
        else
            ++it;
    }
}

Result<Tokens::Issued> Tokens::issue(const QString& user) {
    QByteArray raw(kTokenBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), kTokenBytes) != 1) {
        return fail(QStringLiteral("server.random-failed"),
                    QStringLiteral("No session token could be made; check the system's entropy."));
    }
    const QString token = QString::fromLatin1(
        raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    raw.fill('\0');
    const QDateTime now = QDateTime::currentDateTimeUtc();
    std::lock_guard lock(m_mutex);
    if (m_live.size() >= kMaxLive)
        dropExpired(now);
    if (m_live.size() >= kMaxLive) {
        return fail(QStringLiteral("server.too-many-sessions"),
                    QStringLiteral("The server holds %1 live sessions; try again when some have "
                                   "expired.")
                        .arg(kMaxLive));
    }
    Issued issued{token, now.addSecs(m_lifetimeSeconds)};
    m_live.insert(digest(token), Entry{user, issued.expires});
    return issued;
}

std::optional<QString> Tokens::userOf(const QString& token) {
    if (token.isEmpty() || token.size() > 128)
        return std::nullopt;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    std::lock_guard lock(m_mutex);
    const auto it = m_live.constFind(digest(token));
    if (it == m_live.constEnd())
        return std::nullopt;
    if (it->expires <= now) {
        m_live.remove(digest(token));
        return std::nullopt;
    }
    return it->user;
}

}  // namespace otafleet::server
