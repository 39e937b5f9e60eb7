// The agent's device identity: `otafleet-agent enroll` (device key, CSR, one call to a factory
// station, the returned certificate checked and stored, [identity] added to agent.conf), and at
// every start the check that this identity is still good, giving the TLS material the agent
// serves AgentService with. Without [identity] the agent serves with the setup-time [tls]
// identity as before.
#pragma once

#include "agent/AgentConfig.h"
#include "common/Error.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <string>

namespace otafleet::agent {

struct EnrollOptions {
    QString configPath;
    QString station;       // HOST:PORT of `otafleetctl pki station`
    QByteArray token;      // enrolment token
    QString keyUri;        // pkcs11: URI for a token key; empty: a key file (or [identity])
    QString pkcs11Module;  // token keys: the module (else the URI's module-path, ...)
    QString pinEnv;        // token keys: the PIN's variable; also recorded as [identity] pin_env
};

struct EnrollReport {
    QString deviceId;
    QString serial;
    QDateTime notAfter;
    QString certificatePath;
    QString key;  // key file path or pkcs11: URI
};

// Errors: agent.config-*, agent.enroll-conflict (agent.conf names another key), crypto.*,
// station.* (what the station refused), enroll.* (network, TLS), agent.enroll-certificate-invalid
// (the station's answer does not check out: nothing is stored), io.write-failed.
[[nodiscard]] Result<EnrollReport> enrollAgent(const EnrollOptions& options);

struct ServedIdentity {
    std::string certificateChainPem;
    std::string privateKey;  // PEM
    QString description;     // for the log: "device identity CN=... serial ... until ..."
};

// [identity] when enrolled (checked: chain to bundle_root through the device CA, device id, key,
// validity, [trust] CRLs), else [tls]. Errors: agent.identity-expired, agent.identity-revoked,
// agent.identity-not-yet-valid, agent.identity-invalid, agent.tls-unreadable, crypto.* (a token
// key that cannot be opened), crypto.tls-engine; the identity ones say how to re-enrol.
[[nodiscard]] Result<ServedIdentity> servedIdentity(const AgentConfig& config,
                                                    const QString& configPath);

}  // namespace otafleet::agent
