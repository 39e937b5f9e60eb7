#include "crypto/SecretString.h"

#include <openssl/crypto.h>

#include <termios.h>
#include <unistd.h>

#include <cstdio>

namespace otafleet::crypto {

namespace {
constexpr qsizetype kMaxSecretLength = 4096;
}

SecretString::SecretString(QByteArray utf8) : m_data(std::move(utf8)) {}

SecretString::SecretString(SecretString&& other) noexcept : m_data(std::move(other.m_data)) {
    other.m_data = QByteArray();
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
    if (this != &other) {
        wipe();
        m_data = std::move(other.m_data);
        other.m_data = QByteArray();
    }
    return *this;
}

SecretString::~SecretString() {
    wipe();
}

void SecretString::wipe() {
    // Only overwrite bytes this object alone owns: writing through a shared QByteArray would
    // first detach (copy) it and wipe the copy, which achieves nothing.
    if (!m_data.isEmpty() && m_data.isDetached()) {
        OPENSSL_cleanse(m_data.data(), static_cast<size_t>(m_data.size()));
    }
    m_data = QByteArray();
}

Result<SecretString> SecretString::fromEnvironment(const QString& name) {
    const QByteArray key = name.toLocal8Bit();
    QByteArray value = qgetenv(key.constData());
    if (value.isEmpty()) {
        return fail(QStringLiteral("crypto.pin-missing"),
                    QStringLiteral("The environment variable %1 that should hold the PIN is not "
                                   "set or empty. Set it, or let the program ask for the PIN.")
                        .arg(name));
    }
    return SecretString(std::move(value));
}

Result<SecretString> SecretString::prompt(const QString& question) {
    std::FILE* tty = std::fopen("/dev/tty", "r+");
    if (tty == nullptr) {
        return fail(QStringLiteral("crypto.pin-missing"),
                    QStringLiteral("A PIN is needed but there is no terminal to ask for it. "
                                   "Pass it through an environment variable (--pin-env)."));
    }
    const int fd = fileno(tty);
    termios saved{};
    const bool haveTermios = tcgetattr(fd, &saved) == 0;
    if (haveTermios) {
        termios silent = saved;
        silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(fd, TCSAFLUSH, &silent);
    }
    std::fputs(question.toLocal8Bit().constData(), tty);
    std::fflush(tty);
    QByteArray line(kMaxSecretLength, '\0');
    const bool read = std::fgets(line.data(), static_cast<int>(line.size()), tty) != nullptr;
    if (haveTermios) {
        tcsetattr(fd, TCSAFLUSH, &saved);
    }
    std::fputs("\n", tty);
    std::fclose(tty);
    qsizetype length = read ? qstrnlen(line.constData(), line.size()) : 0;
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) {
        --length;
    }
    QByteArray secret(line.constData(), length);
    OPENSSL_cleanse(line.data(), static_cast<size_t>(line.size()));
    if (secret.isEmpty()) {
        return fail(QStringLiteral("crypto.pin-missing"),
                    QStringLiteral("No PIN was entered. Run the command again and type the PIN."));
    }
    return SecretString(std::move(secret));
}

}  // namespace otafleet::crypto
