#include "station/StationSession.h"

#include "common/AtomicFile.h"
#include "station/FlashImage.h"

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
    if (request.portPattern.isEmpty() ||
        (request.imagePath.isEmpty() && request.bundlePath.isEmpty()) ||
        request.operatorName.isEmpty() || request.stationId.isEmpty() ||
        request.databasePath.isEmpty()) {
        return fail(
            requestInvalid(QStringLiteral("name the ports, the image or bundle, the operator, "
                                          "the station and the database")));
    }
    if (request.releaseKeyPath.isEmpty() && request.pkiDirectory.isEmpty()) {
        return fail(requestInvalid(
            QStringLiteral("give the release key or the PKI to check the image against")));
    }
    if (request.provisionIdentity && request.pkiDirectory.isEmpty()) {
        return fail(requestInvalid(
            QStringLiteral("provisioning identities needs the PKI whose device CA certifies")));
    }
    if (!request.bundlePath.isEmpty() && request.pkiDirectory.isEmpty()) {
        return fail(requestInvalid(
            QStringLiteral("a bundle is checked against the PKI's release trust; give the PKI")));
    }
    std::optional<crypto::Pki> pki;
    if (!request.pkiDirectory.isEmpty()) {
        auto opened = crypto::Pki::open(request.pkiDirectory);
        if (!opened) {
            return fail(opened.error());
        }
        pki.emplace(std::move(*opened));
    }
    std::optional<FlashImage> image;
    if (!request.imagePath.isEmpty()) {
        const auto key = !request.releaseKeyPath.isEmpty()
                             ? readFileBounded(request.releaseKeyPath, kMaxKeyPem)
                             : pki->publicKeyPem(QStringLiteral("release"));
        if (!key) {
            return fail(key.error());
        }
        auto loaded = loadMcubootImage(request.imagePath, *key);
        if (!loaded) {
            return fail(loaded.error().withContext(QStringLiteral("no unit flashed")));
        }
        image = std::move(*loaded);
    }
    std::optional<FlashImage> bundle;
    if (!request.bundlePath.isEmpty()) {
        const auto trust = pki->releaseTrust();
        auto loaded = trust ? loadBundle(request.bundlePath, *trust)
                            : Result<FlashImage>(fail(trust.error()));
        if (!loaded) {
            return fail(loaded.error().withContext(QStringLiteral("no unit flashed")));
        }
        bundle = std::move(*loaded);
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
    if (image) {
        options.job.image = std::move(image->bytes);
        options.job.imageHash = image->hash;
        options.job.imageVersion = image->version;
    }
    if (bundle) {
        options.job.bundle = std::move(bundle->bytes);
        options.job.bundleHash = bundle->hash;
        options.job.bundleVersion = bundle->version;
    }
    options.job.certifier = session->m_certifier ? &*session->m_certifier : nullptr;
    options.job.stationId = request.stationId;
    options.job.operatorName = request.operatorName;
    options.job.baud = request.baud;
    options.job.unitTimeoutMs = request.unitTimeoutMs;
    session->m_station = std::make_unique<Station>(std::move(options), &*session->m_store);
    return session;
}

}  // namespace otafleet::station
