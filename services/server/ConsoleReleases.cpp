// ConsoleService: releases. An upload streams into a temporary file in the blob directory while
// it is hashed; nothing is recorded before the whole bundle verified against the fleet root
// (signature, chain, every payload's hash). The upload is bounded three ways: the size its header
// declares (at most [limits] max_release_size), the bytes per message, and a time budget after
// which the call is cancelled, so a stream that never ends cannot hold the server.
#include "server/ConsoleService.h"

#include "bundle/BundleVerifier.h"
#include "server/RequestCheck.h"
#include "server/ServerLogging.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QUuid>

#include <grpcpp/alarm.h>

#include <mutex>

namespace otafleet::server {
namespace {

using store::FleetStore;
using store::ReleaseRecord;

constexpr qint64 kMaxChunk = 1024 * 1024;
// [limits] upload_timeout plus a second per 256 KiB declared: generous for a LAN, finite for a
// client that stops sending without closing the stream.
constexpr qint64 kUploadBytesPerSecond = 256 * 1024;

std::string str(const QString& s) {
    return s.toStdString();
}

QString releaseSubject(const std::string& id) {
    return QStringLiteral("release:%1").arg(QString::fromStdString(id.substr(0, 64)));
}

void fillRelease(const ReleaseRecord& r, cpb::Release* out, bool withManifest) {
    out->set_id(str(r.id));
    out->set_product(str(r.product));
    out->set_version(str(r.version));
    out->set_security_version(r.securityVersion);
    for (const QString& h : r.hardware)
        out->add_hardware(str(h));
    out->set_size(quint64(r.size));
    out->set_file_name(str(r.fileName));
    out->set_uploaded_by(str(r.uploadedBy));
    out->set_uploaded_unix_ms(r.uploaded.toMSecsSinceEpoch());
    out->set_revoked(r.revoked);
    out->set_revoked_unix_ms(r.revoked ? r.revokedAt.toMSecsSinceEpoch() : 0);
    for (const QString& s : r.signers)
        out->add_signers(str(s));
    if (withManifest)
        out->set_manifest_json(r.manifestJson.toStdString());
}

// Cancels the call when the time budget is spent; shared with the alarm's callback, which may
// run after the reactor is gone.
struct CallCanceller {
    std::mutex mutex;
    grpc::CallbackServerContext* context = nullptr;  // null once the call is done
    void cancel() {
        std::lock_guard lock(mutex);
        if (context)
            context->TryCancel();
    }
    void done() {
        std::lock_guard lock(mutex);
        context = nullptr;
    }
};

class UploadReactor final : public grpc::ServerReadReactor<cpb::ReleaseChunk> {
public:
    UploadReactor(ConsoleService& service, grpc::CallbackServerContext* context, Caller caller,
                  cpb::Release* reply)
        : m_service(service),
          m_caller(std::move(caller)),
          m_reply(reply),
          m_canceller(std::make_shared<CallCanceller>()),
          m_hash(QCryptographicHash::Sha256) {
        m_canceller->context = context;
        StartRead(&m_chunk);
    }

    void OnReadDone(bool ok) override {
        if (!ok) {
            finish(m_received == m_declared && m_declared > 0
                       ? complete()
                       : fail(QStringLiteral("server.upload-truncated"),
                              QStringLiteral("The upload ended after %1 of %2 bytes; upload the "
                                             "bundle again.")
                                  .arg(m_received)
                                  .arg(m_declared)));
            return;
        }
        if (!m_file.isOpen()) {
            if (auto started = start(); !started) {
                finish(started);
                return;
            }
        } else if (m_chunk.has_header()) {
            finish(fail(QStringLiteral("server.upload-protocol"),
                        QStringLiteral("Only the first message of an upload carries a header.")));
            return;
        }
        const std::string& data = m_chunk.data();
        if (qint64(data.size()) > kMaxChunk) {
            finish(fail(QStringLiteral("server.chunk-too-large"),
                        QStringLiteral("An upload message carries at most 1 MiB.")));
            return;
        }
        if (m_received + qint64(data.size()) > m_declared) {
            finish(fail(QStringLiteral("server.release-too-large"),
                        QStringLiteral("The upload sent more than the %1 bytes its header "
                                       "declared.")
                            .arg(m_declared)));
            return;
        }
        if (m_file.write(data.data(), qint64(data.size())) != qint64(data.size())) {
            finish(fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("The server could not store the upload; check its disk.")));
            return;
        }
        m_hash.addData(QByteArrayView(data.data(), qsizetype(data.size())));
        m_received += qint64(data.size());
        // All declared bytes arrived: finish without waiting for the client to close its side.
        if (m_received == m_declared) {
            finish(complete());
            return;
        }
        StartRead(&m_chunk);
    }

    void OnDone() override {
        m_canceller->done();
        if (m_file.isOpen())
            m_file.close();
        if (!m_tempPath.isEmpty())
            QFile::remove(m_tempPath);
        delete this;
    }

private:
    Status start() {
        const ServerConfig& config = m_service.config();
        if (auto ok = checkUploadHeader(m_chunk, config.maxReleaseSize); !ok)
            return ok;
        m_declared = qint64(m_chunk.header().total_size());
        m_fileName = QString::fromStdString(m_chunk.header().file_name());
        m_tempPath = QDir(config.blobs)
                         .filePath(QStringLiteral("incoming-%1.part")
                                       .arg(QUuid::createUuid().toString(QUuid::Id128)));
        m_file.setFileName(m_tempPath);
        if (!m_file.open(QIODevice::WriteOnly | QIODevice::NewOnly)) {
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("The server could not create %1; check its blob "
                                       "directory.")
                            .arg(m_tempPath));
        }
        const qint64 budget = config.uploadTimeoutSeconds + m_declared / kUploadBytesPerSecond;
        m_alarm.Set(std::chrono::system_clock::now() + std::chrono::seconds(budget),
                    [canceller = m_canceller](bool fired) {
                        if (fired)
                            canceller->cancel();
                    });
        return {};
    }

    Status complete() {
        m_file.close();
        const QString id = QString::fromLatin1(m_hash.result().toHex());
        bundle::VerifyPolicy policy;
        policy.trust = m_service.releaseTrust();
        auto verified = bundle::BundleVerifier::verifyFile(m_tempPath, policy);
        if (!verified) {
            (void)m_service.audit(m_caller.name, releaseSubject(str(id)),
                                  QStringLiteral("release.upload-refused"), verified.error().code);
            return fail(verified.error());
        }
        const QString blobPath =
            QDir(m_service.config().blobs).filePath(id + QStringLiteral(".otab"));
        ReleaseRecord record;
        record.id = id;
        record.product = verified->manifest.product;
        record.version = verified->manifest.version.toString();
        record.securityVersion = verified->manifest.securityVersion;
        record.hardware = verified->manifest.hardware;
        record.size = m_received;
        record.fileName = m_fileName;
        record.blobPath = blobPath;
        record.manifestJson = verified->manifest.serialize();
        for (const crypto::VerifiedSigner& s : verified->signers)
            record.signers << s.certificate.subject();
        record.uploadedBy = m_caller.name;
        record.uploaded = QDateTime::currentDateTimeUtc();
        auto stored = m_service.store().run([&](FleetStore& s) -> Status {
            if (auto existing = s.releases().get(id); existing)
                return s.releases().add(record);  // store.duplicate, naming the first upload
            QFile::remove(blobPath);
            if (!QFile::rename(m_tempPath, blobPath)) {
                return fail(
                    QStringLiteral("io.write-failed"),
                    QStringLiteral("The server could not move the upload to %1.").arg(blobPath));
            }
            if (auto ok = s.releases().add(record); !ok) {
                QFile::remove(blobPath);
                return ok;
            }
            return {};
        });
        if (!stored)
            return stored;
        m_tempPath.clear();
        fillRelease(record, m_reply, false);
        return m_service.audit(m_caller.name, releaseSubject(str(id)),
                               QStringLiteral("release.upload"),
                               QStringLiteral("%1 %2").arg(record.product, record.version));
    }

    void finish(const Status& result) {
        if (m_finished)
            return;
        m_finished = true;
        m_alarm.Cancel();
        Finish(result ? grpc::Status::OK : toGrpcStatus(result.error()));
    }

    ConsoleService& m_service;
    Caller m_caller;
    cpb::Release* m_reply;
    std::shared_ptr<CallCanceller> m_canceller;
    grpc::Alarm m_alarm;
    cpb::ReleaseChunk m_chunk;
    QFile m_file;
    QString m_tempPath;
    QString m_fileName;
    QCryptographicHash m_hash;
    qint64 m_declared = 0;
    qint64 m_received = 0;
    bool m_finished = false;
};

class RejectUpload final : public grpc::ServerReadReactor<cpb::ReleaseChunk> {
public:
    explicit RejectUpload(const Error& error) { Finish(toGrpcStatus(error)); }
    void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerReadReactor<cpb::ReleaseChunk>* ConsoleService::UploadRelease(
    grpc::CallbackServerContext* c, cpb::Release* reply) {
    auto caller = authorize(c, Action::ReleaseUpload, QStringLiteral("releases"));
    if (!caller)
        return new RejectUpload(caller.error());
    return new UploadReactor(*this, c, *caller, reply);
}

grpc::ServerUnaryReactor* ConsoleService::ListReleases(grpc::CallbackServerContext* c,
                                                       const cpb::ListReleasesRequest*,
                                                       cpb::ReleaseList* reply) {
    auto caller = authorize(c, Action::ReleaseList, QStringLiteral("releases"));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    auto releases = m_store.run([](FleetStore& s) { return s.releases().all(); });
    if (!releases)
        return finishUnary(c, fail(releases.error()));
    for (const ReleaseRecord& r : *releases)
        fillRelease(r, reply->add_releases(), false);
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::InspectRelease(grpc::CallbackServerContext* c,
                                                         const cpb::InspectReleaseRequest* r,
                                                         cpb::Release* reply) {
    auto caller = authorize(c, Action::ReleaseInspect, releaseSubject(r->id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString id = QString::fromStdString(r->id());
    auto release = m_store.run([&](FleetStore& s) { return s.releases().get(id); });
    if (!release)
        return finishUnary(c, fail(release.error()));
    fillRelease(*release, reply, true);
    return finishUnary(c, {});
}

grpc::ServerUnaryReactor* ConsoleService::RevokeRelease(grpc::CallbackServerContext* c,
                                                        const cpb::RevokeReleaseRequest* r,
                                                        cpb::Release* reply) {
    auto caller = authorize(c, Action::ReleaseRevoke, releaseSubject(r->id()));
    if (!caller)
        return finishUnary(c, fail(caller.error()));
    if (auto ok = checkRequest(*r); !ok)
        return finishUnary(c, ok);
    const QString id = QString::fromStdString(r->id());
    auto release = m_store.run([&](FleetStore& s) -> Result<ReleaseRecord> {
        if (auto ok = s.releases().revoke(id, QDateTime::currentDateTimeUtc()); !ok)
            return fail(ok.error());
        return s.releases().get(id);
    });
    if (!release)
        return finishUnary(c, fail(release.error()));
    fillRelease(*release, reply, false);
    return finishUnary(
        c, audit(caller->name, releaseSubject(r->id()), QStringLiteral("release.revoke"),
                 QString::fromStdString(r->reason())));
}

}  // namespace otafleet::server
