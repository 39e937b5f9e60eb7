#include "enroll/EnrollmentStation.h"

#include "common/AtomicFile.h"
#include "crypto/TlsPolicy.h"
#include "enroll/EnrollRequestCheck.h"

#include "otafleet/enroll/v1/enroll.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QLoggingCategory>
#include <QSysInfo>

#include <condition_variable>
#include <mutex>

namespace otafleet::enroll {

namespace {

Q_LOGGING_CATEGORY(lcStation, "otafleet.station")

namespace pb = otafleet::enroll::v1;

std::string str(const QString& text) {
    return text.toStdString();
}

grpc::StatusCode statusCodeFor(const QString& code) {
    if (code == u"station.token-rejected")
        return grpc::StatusCode::PERMISSION_DENIED;
    if (code == u"station.request-invalid" || code == u"station.csr-rejected")
        return grpc::StatusCode::INVALID_ARGUMENT;
    if (code == u"station.already-enrolled")
        return grpc::StatusCode::ALREADY_EXISTS;
    if (code == u"station.closed")
        return grpc::StatusCode::UNAVAILABLE;
    return grpc::StatusCode::INTERNAL;
}

// The names a station certificate must carry: the listen host, or for a wildcard address the
// machine's name and loopback (the same rule as `otafleet-agent setup`).
QStringList serverNames(const QString& host) {
    QString bare = host;
    if (bare.startsWith(u'[') && bare.endsWith(u']'))
        bare = bare.mid(1, bare.size() - 2);
    if (bare == u"0.0.0.0" || bare == u"::") {
        return {QSysInfo::machineHostName(), QStringLiteral("localhost"),
                QStringLiteral("127.0.0.1")};
    }
    return {bare};
}

QString peerOf(const grpc::ServerContext* context) {
    QString peer = QString::fromStdString(context->peer());
    return peer.startsWith(QLatin1String("ipv4:")) || peer.startsWith(QLatin1String("ipv6:"))
               ? peer.mid(5)
               : peer;
}

}  // namespace

struct EnrollmentStation::Impl final : pb::EnrollmentService::Service {
    StationOptions options;
    StationEvents events;
    std::optional<crypto::Pki> pki;
    QByteArray pin;  // wiped in the destructor
    std::unique_ptr<grpc::Server> server;
    QString address;

    std::mutex mutex;  // one issuance at a time; also guards the counters below
    std::condition_variable done;
    int issued = 0;
    bool stopping = false;

    ~Impl() override { pin.fill('\0'); }

    crypto::PinProvider pinProvider() {
        return [this]() -> Result<crypto::SecretString> {
            if (pin.isEmpty()) {
                return fail(QStringLiteral("crypto.pin-missing"),
                            QStringLiteral("The PKI keys are on a token; pass --pin-env VAR."));
            }
            return crypto::SecretString(pin);
        };
    }

    // A valid certificate of this device, if any; the first free entry name otherwise.
    Result<EnrolledDevice> issue(const CheckedRequest& request) {
        auto entries = pki->issued();
        if (!entries)
            return fail(entries.error());
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QString subject = QStringLiteral("CN=%1").arg(request.deviceId);
        QStringList names;
        for (const crypto::IssuedCertificate& e : *entries) {
            names << e.name;
            if (e.kind != crypto::IssueKind::Device || e.subject != subject ||
                e.state(now) != u"valid") {
                continue;
            }
            auto held = pki->publicKeyPem(e.name);
            if (held && *held == request.publicKeyPem) {
                return EnrolledDevice{
                    request.deviceId, e.name, e.serial, e.notAfter, {}, {}, {}, {}, true};
            }
            return fail(QStringLiteral("station.already-enrolled"),
                        QStringLiteral("The device %1 already has a valid certificate (serial %2, "
                                       "entry %3) for another key. If the device lost its key, "
                                       "revoke the old certificate first: otafleetctl pki revoke "
                                       "--pki PKI --name %3.")
                            .arg(request.deviceId, e.serial, e.name));
        }
        QString name = request.deviceId;
        for (int n = 2; names.contains(name); ++n)
            name = QStringLiteral("%1.%2").arg(request.deviceId).arg(n);
        crypto::IssueOptions o;
        o.kind = crypto::IssueKind::Device;
        o.name = name;
        o.csr = request.csr;
        o.validityDays = options.validityDays;
        o.pinProvider = pinProvider();
        auto entry = pki->issue(o, request.deviceId);
        if (!entry)
            return fail(entry.error());
        return EnrolledDevice{
            request.deviceId, entry->name, entry->serial, entry->notAfter, {}, {}, {}, {}, false};
    }

    Result<QByteArray> handle(const pb::EnrollRequest& message, EnrolledDevice& device) {
        const auto bytes = [](const std::string& s) {
            return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
        };
        const EnrollFields fields{bytes(message.csr()), bytes(message.device_id()),
                                  bytes(message.model()), bytes(message.hardware()),
                                  bytes(message.token())};
        // The token first: nobody without it learns anything about the CSR checks.
        if (!tokenMatches(options.token, fields.token)) {
            return fail(QStringLiteral("station.token-rejected"),
                        QStringLiteral("The enrolment token is wrong; pass the token of this "
                                       "station (--token-env VAR)."));
        }
        auto checked = checkEnrollRequest(fields);
        if (!checked)
            return fail(checked.error());
        std::lock_guard lock(mutex);
        if (stopping || (options.maxEnrolments > 0 && issued >= options.maxEnrolments)) {
            return fail(QStringLiteral("station.closed"),
                        QStringLiteral("The station has finished its run; start it again."));
        }
        auto result = issue(*checked);
        if (!result)
            return fail(result.error());
        const QString peer = device.peer;
        device = *result;
        device.peer = peer;
        device.model = checked->model;
        device.hardware = checked->hardware;
        device.keyType = checked->keyType;
        auto entry = pki->find(device.entryName);
        if (!entry)
            return fail(entry.error());
        auto chain = readFileBounded(entry->certificatePath, kMaxChainPem);
        if (!chain)
            return fail(chain.error());
        if (!device.repeated)
            ++issued;
        return *chain;
    }

    grpc::Status Enroll(grpc::ServerContext* context, const pb::EnrollRequest* request,
                        pb::EnrollReply* reply) override {
        EnrolledDevice device;
        device.peer = peerOf(context);
        auto chain = handle(*request, device);
        if (!chain) {
            qCInfo(lcStation).noquote() << "refused" << device.peer << chain.error().toString();
            if (events.refused)
                events.refused(device.peer, chain.error());
            return grpc::Status(statusCodeFor(chain.error().code), str(chain.error().message),
                                str(chain.error().code));
        }
        reply->set_certificate_chain_pem(chain->toStdString());
        if (events.enrolled)
            events.enrolled(device);
        std::lock_guard lock(mutex);
        if (options.maxEnrolments > 0 && issued >= options.maxEnrolments)
            done.notify_all();
        return grpc::Status::OK;
    }
};

EnrollmentStation::EnrollmentStation() : d(std::make_unique<Impl>()) {}

EnrollmentStation::~EnrollmentStation() {
    if (d->server) {
        d->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
        d->server->Wait();
    }
}

Result<std::unique_ptr<EnrollmentStation>> EnrollmentStation::start(const StationOptions& options,
                                                                    StationEvents events) {
    if (options.token.isEmpty()) {
        return fail(QStringLiteral("station.token-missing"),
                    QStringLiteral("A station needs an enrolment token so that it does not sign "
                                   "requests from anyone on the line; pass --token-env VAR."));
    }
    const qsizetype colon = options.listen.lastIndexOf(u':');
    bool portOk = false;
    const uint port = colon > 0 ? options.listen.mid(colon + 1).toUInt(&portOk) : 0;
    if (!portOk || port > 65535) {
        return fail(QStringLiteral("station.listen-failed"),
                    QStringLiteral("--listen must be HOST:PORT, for example 0.0.0.0:7450."));
    }
    // Before gRPC makes its TLS context: devices enrol over TLS 1.3 only.
    if (auto tls = crypto::requireTls13(); !tls)
        return fail(tls.error());
    std::unique_ptr<EnrollmentStation> station(new EnrollmentStation());
    Impl& impl = *station->d;
    impl.options = options;
    impl.events = std::move(events);
    auto pki = crypto::Pki::open(options.pkiDirectory);
    if (!pki)
        return fail(pki.error());
    impl.pki = std::move(*pki);
    if (impl.pki->keysInToken()) {
        if (!options.pin)
            return fail(QStringLiteral("crypto.pin-missing"),
                        QStringLiteral("The PKI keys are on a token; pass --pin-env VAR."));
        auto secret = options.pin();
        if (!secret)
            return fail(secret.error());
        impl.pin = QByteArray(secret->c_str(), secret->size());
    }
    const QString host = options.listen.left(colon);
    auto identity = impl.pki->issueServerIdentity(
        QStringLiteral("otafleet enrolment station %1").arg(QSysInfo::machineHostName()),
        options.subjectAltNames.isEmpty() ? serverNames(host) : options.subjectAltNames,
        impl.pinProvider());
    if (!identity)
        return fail(identity.error());
    grpc::SslServerCredentialsOptions tls(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    tls.pem_key_cert_pairs.push_back(
        {identity->privateKeyPem.toStdString(), identity->certificateChainPem.toStdString()});
    identity->privateKeyPem.fill('\0');
    grpc::ServerBuilder builder;
    int bound = 0;
    builder.AddListeningPort(str(options.listen), grpc::SslServerCredentials(tls), &bound);
    builder.RegisterService(&impl);
    builder.SetMaxReceiveMessageSize(kMaxRequestSize);
    impl.server = builder.BuildAndStart();
    if (!impl.server || bound == 0) {
        return fail(QStringLiteral("station.listen-failed"),
                    QStringLiteral("Could not listen on %1; another program may use the port, or "
                                   "the address is not on this machine.")
                        .arg(options.listen));
    }
    impl.address = QStringLiteral("%1:%2").arg(host).arg(bound);
    return station;
}

QString EnrollmentStation::address() const {
    return d->address;
}

void EnrollmentStation::wait() {
    {
        std::unique_lock lock(d->mutex);
        d->done.wait(lock, [this] {
            return d->stopping ||
                   (d->options.maxEnrolments > 0 && d->issued >= d->options.maxEnrolments);
        });
        d->stopping = true;
    }
    // In-flight replies (the last device's certificate) still go out.
    d->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    d->server->Wait();
    d->server.reset();
}

void EnrollmentStation::stop() {
    std::lock_guard lock(d->mutex);
    d->stopping = true;
    d->done.notify_all();
}

}  // namespace otafleet::enroll
