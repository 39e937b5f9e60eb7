#include "crypto/TlsPolicy.h"

#include "crypto/OpenSsl.h"

#include <openssl/conf.h>
#include <openssl/ssl.h>

#include <mutex>

namespace otafleet::crypto {
namespace {

// Loaded with CONF_modules_load after the system configuration (OPENSSL_CONF or openssl.cnf),
// so it replaces any ssl_conf that one had; OpenSSL loads the system configuration only once,
// so nothing loads over this later.
constexpr char kPolicy[] = R"(openssl_conf = otafleet_init
[otafleet_init]
ssl_conf = otafleet_ssl
[otafleet_ssl]
system_default = otafleet_tls13
[otafleet_tls13]
MinProtocol = TLSv1.3
Protocol = -ALL, TLSv1.3
)";

using ConfPtr = std::unique_ptr<CONF, ossl::Deleter<NCONF_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, ossl::Deleter<SSL_CTX_free>>;

Error policyError(const QString& what) {
    return Error{QStringLiteral("crypto.tls-policy"),
                 QStringLiteral("Could not restrict TLS to version 1.3 (%1); check that this "
                                "OpenSSL (3.0 or later) is the one the program was built for.")
                     .arg(what)};
}

Status loadPolicy() {
    // The system configuration first: its loading runs once per process, and later calls (gRPC's
    // among them) then leave what is loaded below in place.
    if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1)
        return fail(policyError(ossl::takeErrors()));
    ConfPtr conf(NCONF_new(nullptr));
    auto text = ossl::readBio(QByteArrayView(kPolicy, sizeof(kPolicy) - 1));
    long errorLine = 0;
    if (!conf || !text || NCONF_load_bio(conf.get(), text.get(), &errorLine) != 1)
        return fail(policyError(ossl::takeErrors()));
    if (CONF_modules_load(conf.get(), nullptr, 0) <= 0)
        return fail(policyError(ossl::takeErrors()));

    // What gRPC's ssl_transport_security.cc does with every context it makes.
    SslCtxPtr probe(SSL_CTX_new(TLS_method()));
    if (!probe)
        return fail(policyError(ossl::takeErrors()));
    SSL_CTX_set_min_proto_version(probe.get(), TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(probe.get(), TLS1_3_VERSION);
    if ((SSL_CTX_get_options(probe.get()) & SSL_OP_NO_TLSv1_2) == 0)
        return fail(policyError(QStringLiteral("TLS 1.2 stays enabled in a new context")));
    return {};
}

}  // namespace

Status requireTls13() {
    static std::once_flag once;
    static Status result;
    std::call_once(once, [] { result = loadPolicy(); });
    return result;
}

const char* tls13PolicyHelp() {
    return "TLS: only TLS 1.3 is accepted and offered (a client or server that offers only TLS "
           "1.2 or older fails the handshake).";
}

}  // namespace otafleet::crypto
