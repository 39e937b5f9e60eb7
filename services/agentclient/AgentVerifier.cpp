#include "agentclient/AgentVerifier.h"

#include "crypto/DeviceIdentity.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <QRegularExpression>

namespace otafleet::agentclient::detail {

namespace {

// gRPC hands the verifier's status text on as part of the handshake failure; the code rides
// along in brackets so the client can give it back unchanged.
QString encode(const Error& error) {
    return QStringLiteral("[%1] %2").arg(error.code, error.message);
}

QString hostOf(const QString& target) {
    QString host = target.left(target.lastIndexOf(u':'));
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    return host;
}

class AgentCertificateVerifier final : public grpc::experimental::ExternalCertificateVerifier {
public:
    AgentCertificateVerifier(QByteArray rootPem, QString target, std::shared_ptr<PeerIdentity> peer)
        : m_rootPem(std::move(rootPem)), m_target(std::move(target)), m_peer(std::move(peer)) {}

    bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
                std::function<void(grpc::Status)> /*callback*/, grpc::Status* syncStatus) override {
        const auto error = check(*request);
        *syncStatus =
            error ? grpc::Status(grpc::StatusCode::UNAUTHENTICATED, encode(*error).toStdString())
                  : grpc::Status::OK;
        return true;  // synchronous
    }
    void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest* /*request*/) override {}

private:
    std::optional<Error> check(const grpc::experimental::TlsCustomVerificationCheckRequest& r) {
        const QByteArray leafPem(r.peer_cert().data(),
                                 static_cast<qsizetype>(r.peer_cert().size()));
        const QByteArray fullChain(r.peer_cert_full_chain().data(),
                                   static_cast<qsizetype>(r.peer_cert_full_chain().size()));
        // The leaf first; a full chain that already starts with it repeats it harmlessly.
        const QByteArray chainPem = leafPem + fullChain;
        // Trust and time first, for whatever the certificate is, so that an expired one is
        // reported as expired.
        crypto::ChainCheck check;
        check.rootPem = m_rootPem;
        auto chain = crypto::verifyCertificateChain(chainPem, check);
        if (!chain) {
            return rejected(chain.error());
        }
        // An enrolled agent serves with its device identity (device CA, EKU clientAuth): it
        // names a device, not a host. Anything else must be a server certificate for this host.
        const QString deviceId = crypto::deviceIdOf(*chain);
        const bool device = !deviceId.isEmpty();
        check.purpose = device ? crypto::ChainPurpose::TlsClient : crypto::ChainPurpose::TlsServer;
        chain = crypto::verifyCertificateChain(chainPem, check);
        if (!chain) {
            return rejected(chain.error());
        }
        if (device) {
            m_peer->set(deviceId);
            return std::nullopt;
        }
        if (!crypto::certificateNamesHost(chain->first(), hostOf(m_target))) {
            return Error{QStringLiteral("link.agent-name-mismatch"),
                         QStringLiteral("The agent's certificate \"%1\" does not name %2; dial the "
                                        "address its certificate was issued for.")
                             .arg(chain->first().commonName(), hostOf(m_target))};
        }
        m_peer->set({});
        return std::nullopt;
    }

    Error rejected(const Error& error) const {
        const QString& code = error.code;
        const QString suffix = code == u"crypto.certificate-expired" ? QStringLiteral("expired")
                               : code == u"crypto.certificate-not-yet-valid"
                                   ? QStringLiteral("not-yet-valid")
                                   : QStringLiteral("untrusted");
        const QString advice =
            suffix == u"expired"
                ? QStringLiteral(
                      "Re-enrol the device (otafleet-agent enroll) or run "
                      "'otafleet-agent setup' for a new server certificate.")
                : QStringLiteral("Check that the agent belongs to this fleet's PKI.");
        return Error{QStringLiteral("link.agent-certificate-%1").arg(suffix),
                     QStringLiteral("The agent at %1 presented a certificate that cannot be "
                                    "accepted: %2 %3")
                         .arg(m_target, error.message, advice)};
    }

    QByteArray m_rootPem;
    QString m_target;
    std::shared_ptr<PeerIdentity> m_peer;
};

}  // namespace

void PeerIdentity::set(const QString& deviceId) {
    const std::lock_guard lock(m_mutex);
    m_deviceId = deviceId;
}

QString PeerIdentity::deviceId() const {
    const std::lock_guard lock(m_mutex);
    return m_deviceId;
}

std::shared_ptr<grpc::ChannelCredentials> agentCredentials(const TlsIdentity& identity,
                                                           const QString& target,
                                                           std::shared_ptr<PeerIdentity> peer) {
    auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
        identity.rootCaPem.toStdString(),
        std::vector<grpc::experimental::IdentityKeyCertPair>{
            {identity.privateKeyPem.toStdString(), identity.certChainPem.toStdString()}});
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_certificate_provider(provider);
    options.watch_root_certs();
    options.watch_identity_key_cert_pairs();
    // The whole check (chain, time, purpose, name) is the verifier's: gRPC's built-in one only
    // knows host names, which a device identity does not carry.
    options.set_verify_server_certs(false);
    options.set_check_call_host(false);
    options.set_certificate_verifier(
        grpc::experimental::ExternalCertificateVerifier::Create<AgentCertificateVerifier>(
            identity.rootCaPem, target, std::move(peer)));
    return grpc::experimental::TlsCredentials(options);
}

std::optional<Error> verifierError(const QString& message) {
    static const QRegularExpression pattern(
        QStringLiteral("\\[(link\\.agent-[a-z-]+)\\] ([^\\n]*?)(\"|$)"));
    const auto match = pattern.match(message);
    if (!match.hasMatch())
        return std::nullopt;
    return Error{match.captured(1), match.captured(2).trimmed()};
}

}  // namespace otafleet::agentclient::detail
