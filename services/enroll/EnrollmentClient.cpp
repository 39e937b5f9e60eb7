#include "enroll/EnrollmentClient.h"

#include "enroll/EnrollRequestCheck.h"

#include "otafleet/enroll/v1/enroll.grpc.pb.h"

#include <grpcpp/grpcpp.h>

namespace otafleet::enroll {

namespace {

namespace pb = otafleet::enroll::v1;

Error toError(const grpc::Status& status, const QString& station) {
    const QString details = QString::fromStdString(status.error_details());
    const QString message = QString::fromStdString(status.error_message());
    if (details.startsWith(QLatin1String("station.")) && !details.contains(u' ')) {
        return Error{details, message};
    }
    switch (status.error_code()) {
        case grpc::StatusCode::DEADLINE_EXCEEDED:
            return Error{QStringLiteral("enroll.timeout"),
                         QStringLiteral("The station at %1 did not answer in time; check that it "
                                        "runs and the network is up.")
                             .arg(station)};
        case grpc::StatusCode::UNAVAILABLE:
            if (message.contains(QLatin1String("andshake")) ||
                message.contains(QLatin1String("certificate")) ||
                message.contains(QLatin1String("SSL")) || message.contains(QLatin1String("ssl"))) {
                return Error{QStringLiteral("enroll.station-untrusted"),
                             QStringLiteral("TLS with the station at %1 failed (%2): its "
                                            "certificate must come from the fleet root in "
                                            "[trust] bundle_root and name this address.")
                                 .arg(station, message)};
            }
            return Error{QStringLiteral("enroll.unreachable"),
                         QStringLiteral("Cannot reach the station at %1 (%2); check the address "
                                        "and that 'otafleetctl pki station' runs.")
                             .arg(station, message)};
        default:
            return Error{QStringLiteral("enroll.protocol"),
                         QStringLiteral("The station at %1 answered with an unexpected error "
                                        "(%2).")
                             .arg(station, message)};
    }
}

}  // namespace

Result<QByteArray> requestCertificate(const EnrollCall& call) {
    if (!call.station.contains(u':')) {
        return fail(QStringLiteral("enroll.unreachable"),
                    QStringLiteral("The station address '%1' is not HOST:PORT.").arg(call.station));
    }
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = call.rootPem.toStdString();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(static_cast<int>(kMaxChainPem) + 1024);
    auto channel =
        grpc::CreateCustomChannel(call.station.toStdString(), grpc::SslCredentials(tls), args);
    auto stub = pb::EnrollmentService::NewStub(channel);
    pb::EnrollRequest request;
    request.set_csr(call.csr.constData(), static_cast<size_t>(call.csr.size()));
    request.set_device_id(call.deviceId.toStdString());
    request.set_model(call.model.toStdString());
    request.set_hardware(call.hardware.toStdString());
    request.set_token(call.token.constData(), static_cast<size_t>(call.token.size()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + call.timeout);
    pb::EnrollReply reply;
    const grpc::Status status = stub->Enroll(&context, request, &reply);
    request.mutable_token()->assign(request.token().size(), '\0');
    if (!status.ok()) {
        return fail(toError(status, call.station));
    }
    if (reply.certificate_chain_pem().empty() ||
        reply.certificate_chain_pem().size() > static_cast<size_t>(kMaxChainPem)) {
        return fail(QStringLiteral("enroll.protocol"),
                    QStringLiteral("The station at %1 sent no usable certificate chain.")
                        .arg(call.station));
    }
    return QByteArray::fromStdString(reply.certificate_chain_pem());
}

}  // namespace otafleet::enroll
