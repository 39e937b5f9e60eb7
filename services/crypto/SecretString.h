// A PIN or passphrase held in memory only as long as needed and wiped on destruction.
// Never logged, never written to disk.
#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

namespace otafleet::crypto {

class SecretString {
public:
    SecretString() = default;
    explicit SecretString(QByteArray utf8);
    SecretString(const SecretString&) = delete;
    SecretString& operator=(const SecretString&) = delete;
    SecretString(SecretString&& other) noexcept;
    SecretString& operator=(SecretString&& other) noexcept;
    ~SecretString();

    [[nodiscard]] bool isEmpty() const { return m_data.isEmpty(); }
    // NUL-terminated, valid while this object lives and is not modified.
    [[nodiscard]] const char* c_str() const { return m_data.constData(); }
    [[nodiscard]] qsizetype size() const { return m_data.size(); }

    // Takes the value of the environment variable `name` and asks the caller to unset it where
    // sensible. Error "crypto.pin-missing" when unset or empty.
    [[nodiscard]] static Result<SecretString> fromEnvironment(const QString& name);
    // Prompts on the controlling terminal with echo off. Error "crypto.pin-missing" without a tty.
    [[nodiscard]] static Result<SecretString> prompt(const QString& question);

private:
    void wipe();
    QByteArray m_data;
};

}  // namespace otafleet::crypto
