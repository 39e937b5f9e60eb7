// Fuzz target: RFC 7512 pkcs11: URI parsing (key references from the command line, pki.json and
// configuration). Whatever parses must print back to a URI that parses to the same key (so a
// printed URI never carries a PIN attribute: that would be refused).
#include "crypto/Pkcs11Uri.h"

#include <QString>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using otafleet::crypto::Pkcs11Uri;
    const QString text =
        QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    auto parsed = Pkcs11Uri::parse(text);
    if (!parsed) {
        return 0;
    }
    const QString printed = parsed->toString();
    if (printed.size() > Pkcs11Uri::kMaxLength) {
        return 0;  // percent-encoding may legitimately grow it past the parse limit
    }
    auto again = Pkcs11Uri::parse(printed);
    if (!again || again->token != parsed->token || again->object != parsed->object ||
        again->id != parsed->id || again->type != parsed->type ||
        again->modulePath != parsed->modulePath) {
        __builtin_trap();
    }
    return 0;
}
