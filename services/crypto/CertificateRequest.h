// Internal: a PKCS#10 certificate signing request from outside (a factory station, a server
// administrator), reduced to what the PKI takes from it: the public key, after checking the
// request's self-signature. The subject is only shown; the CA decides the certificate's name.
#pragma once

#include "common/Error.h"
#include "crypto/OpenSsl.h"

#include <QByteArrayView>
#include <QString>

namespace otafleet::crypto {

struct CertificateRequest {
    ossl::EvpPkeyPtr publicKey;
    QString subject;     // RFC 2253, for messages
    QString commonName;  // the subject's (first) CN, empty when it has none

    // PEM or DER, at most kMaxCsrSize bytes. Error pki.csr-invalid (unparsable, trailing data,
    // bad self-signature, unsupported key).
    [[nodiscard]] static Result<CertificateRequest> parse(QByteArrayView data);
};

}  // namespace otafleet::crypto
