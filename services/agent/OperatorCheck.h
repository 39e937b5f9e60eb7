// Decides whether a TLS client certificate belongs to an operator. TLS already checked that the
// chain reaches the fleet root, but the root also issues device and server certificates, so the
// leaf must be signed by one of the operator CAs (checked with the CA's key, not by comparing
// names) and must not be on that CA's CRL.
#pragma once

#include "common/Error.h"
#include "crypto/Certificate.h"

#include <QByteArray>
#include <QList>
#include <QStringList>

namespace otafleet::agent {

class OperatorCheck {
public:
    // The CAs of `operatorCaPath` other than self-signed roots, and every CRL in `crlFiles`
    // signed by one of them. Errors agent.tls-unreadable (no operator CA), crypto.crl-unreadable.
    [[nodiscard]] static Result<OperatorCheck> load(const QString& operatorCaPath,
                                                    const QStringList& crlFiles);

    // Errors agent.not-an-operator (no operator CA signed it), agent.operator-revoked.
    [[nodiscard]] Status check(QByteArrayView leafPem) const;

private:
    QList<crypto::Certificate> m_cas;
    QList<QByteArray> m_crlsDer;  // CRLs whose signature one of m_cas verified
};

}  // namespace otafleet::agent
