// Errors as values. Every error a user can hit carries a stable code that scripts and tests
// match on, and a sentence that says what happened and what to do about it.
#pragma once

#include <QString>

#include <expected>
#include <utility>

namespace otafleet {

struct Error {
    QString code;     // stable, dotted: "bundle.untrusted-signer"; never reworded
    QString message;  // a sentence for a person: what happened, what to do

    // "message [code]": the form shown in the console and printed by the command line.
    [[nodiscard]] QString toString() const;
    // Prepends context ("while reading slot B: ") without losing the code.
    [[nodiscard]] Error withContext(const QString& context) const;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

[[nodiscard]] inline std::unexpected<Error> fail(QString code, QString message) {
    return std::unexpected(Error{std::move(code), std::move(message)});
}
[[nodiscard]] inline std::unexpected<Error> fail(Error error) {
    return std::unexpected(std::move(error));
}

}  // namespace otafleet
