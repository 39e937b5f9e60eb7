#include "station/StationSession.h"

#include "bundle/McubootImage.h"
#include "common/AtomicFile.h"

namespace otafleet::station {
namespace {

constexpr qint64 kMaxKeyPem = 64 * 1024;

Error requestInvalid(const QString& what) {
    return Error{QStringLiteral("station.request-invalid"),
                 QStringLiteral("The station cannot start: %1.").arg(what)};
}

}  // namespace

StationSession::~StationSession() {
    m_station.reset();
}

Result<std::unique_ptr<StationSession>> StationSession::open(const StationRequest& request) {
    if (request.portPattern.isEmpty() || request.imagePath.isEmpty() ||
        request.operatorName.isEmpty() || request.stationId.isEmpty() ||
        request.databasePath.isEmpty()) {
        return fail(
            requestInvalid(QStringLiteral("name the ports, the image, the operator, the "
                                          "station and the database")));
    }
    if (request.releaseKeyPath.isEmpty() && request.pkiDirectory.isEmpty()) {
        return fail(requestInvalid(
            QStringLiteral("give the release key or the PKI to check the image against")));
    }
    if (request.provisionIdentity && request.pkiDirectory.isEmpty()) {
        return fail(requestInvalid(
            QStringLiteral("provisioning identities needs the PKI whose device CA certifies")));
    }
    Result<QByteArray> key;
    if (!request.releaseKeyPath.isEmpty()) {
        key = readFileBounded(request.releaseKeyPath, kMaxKeyPem);
    } else {
        const auto pki = crypto::Pki::open(request.pkiDirectory);
        key = pki ? pki->publicKeyPem(QStringLiteral("release"))
                  : Result<QByteArray>(fail(pki.error()));
    }
    if (!key) {
        return fail(key.error());
    }
    auto image = readFileBounded(request.imagePath, bundle::mcuboot::kMaxImageSize);
    if (!image) {
        return fail(image.error());
    }
    const auto info = bundle::mcuboot::verifyImage(*image, *key);
    if (!info) {
        return fail(info.error().withContext(QStringLiteral("no unit flashed")));
    }
    std::unique_ptr<StationSession> session(new StationSession);
    if (request.provisionIdentity) {
        auto certifier = DeviceCertifier::open(request.pkiDirectory, request.pin);
        if (!certifier) {
            return fail(certifier.error());
        }
        session->m_certifier.emplace(std::move(*certifier));
    }
    auto store = TraceStore::open(request.databasePath);
    if (!store) {
        return fail(store.error());
    }
    session->m_store.emplace(std::move(*store));

    StationOptions options;
    options.portPattern = request.portPattern;
    options.maxUnits = request.maxUnits;
    options.job.image = std::move(*image);
    options.job.imageHash = info->sha256;
    options.job.imageVersion = info->version.toString();
    options.job.certifier = session->m_certifier ? &*session->m_certifier : nullptr;
    options.job.stationId = request.stationId;
    options.job.operatorName = request.operatorName;
    options.job.baud = request.baud;
    options.job.unitTimeoutMs = request.unitTimeoutMs;
    session->m_station = std::make_unique<Station>(std::move(options), &*session->m_store);
    return session;
}

}  // namespace otafleet::station
