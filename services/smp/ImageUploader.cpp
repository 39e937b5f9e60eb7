#include "smp/ImageUploader.h"

#include "smp/SmpError.h"

#include <QCryptographicHash>
#include <QPointer>

namespace otafleet::smp {
namespace {

// Zephyr's defaults (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE, _COUNT) for a device too old to
// answer MCUmgr parameters.
constexpr qint64 kDefaultBufSize = 384;
constexpr qint64 kDefaultBufCount = 1;
constexpr qint64 kMinChunk = 32;

}  // namespace

ImageUploader::ImageUploader(SmpClient& client, QObject* parent)
    : QObject(parent), m_client(client) {}

void ImageUploader::start(QByteArray image, int maxInFlight) {
    m_image = std::move(image);
    m_sha = QCryptographicHash::hash(m_image, QCryptographicHash::Sha256);
    m_maxInFlight = maxInFlight;
    m_client.call(os::mcumgrParameters(), [self = QPointer(this)](Result<QCborMap> body) {
        if (self) {
            self->onParameters(std::move(body));
        }
    });
}

void ImageUploader::onParameters(Result<QCborMap> body) {
    if (!body) {
        finish(fail(body.error()));
        return;
    }
    qint64 bufSize = kDefaultBufSize;
    qint64 bufCount = kDefaultBufCount;
    if (const auto params = os::parseMcumgrParameters(*body)) {
        bufSize = params->bufSize;
        bufCount = params->bufCount;
    } else if (params.error().code != QStringLiteral("smp.device.not-supported")) {
        finish(fail(params.error()));
        return;
    }
    const qint64 packetLimit = qMin(bufSize, qint64(m_client.transport().maxPacketSize()));
    image::UploadChunk probe;
    probe.totalLength = m_image.size();
    probe.sha = m_sha;
    probe.offset = 0;
    m_chunkSize = packetLimit - image::uploadOverhead(probe);
    if (m_chunkSize < kMinChunk) {
        finish(fail(QStringLiteral("smp.buffer-too-small"),
                    QStringLiteral("The device's SMP buffer (%1 bytes) is too small to carry "
                                   "image data; check its MCUmgr configuration.")
                        .arg(bufSize)));
        return;
    }
    m_window = int(qMax<qint64>(1, bufCount));
    if (m_maxInFlight > 0) {
        m_window = qMin(m_window, m_maxInFlight);
    }
    // The first chunk goes alone: its answer says whether the device resumes an earlier upload.
    sendChunk(0);
}

void ImageUploader::sendChunk(qint64 offset) {
    image::UploadChunk chunk;
    chunk.offset = offset;
    chunk.data = m_image.mid(offset, m_chunkSize);
    chunk.totalLength = m_image.size();
    chunk.sha = m_sha;
    const qint64 end = offset + chunk.data.size();
    m_next = end;
    ++m_outstanding;
    // Retransmitted requests can still be answered after the upload is over and this object
    // is gone.
    m_client.call(image::upload(chunk), [self = QPointer(this), end](Result<QCborMap> body) {
        if (self) {
            self->onChunkAnswer(end, std::move(body));
        }
    });
}

void ImageUploader::pump() {
    if (m_done) {
        return;
    }
    if (m_resync) {
        if (m_outstanding > 0) {
            return;  // answers to chunks sent past the gap still arrive; wait them out
        }
        m_resync = false;
        m_next = m_deviceOffset;
    }
    while (m_outstanding < m_window && m_next < m_image.size()) {
        sendChunk(m_next);
    }
}

void ImageUploader::onChunkAnswer(qint64 expectedEnd, Result<QCborMap> body) {
    --m_outstanding;
    if (m_done) {
        return;
    }
    if (!body) {
        finish(fail(body.error().code,
                    body.error().message +
                        QStringLiteral(" The device holds %1 of %2 bytes; run the upload again to "
                                       "resume from there.")
                            .arg(m_deviceOffset)
                            .arg(m_image.size())));
        return;
    }
    const auto answer = image::parseUpload(*body);
    if (!answer) {
        finish(fail(answer.error()));
        return;
    }
    if (answer->offset > m_image.size()) {
        finish(fail(QStringLiteral("smp.bad-response"),
                    QStringLiteral("The device asked for offset %1 of a %2-byte image.")
                        .arg(answer->offset)
                        .arg(m_image.size())));
        return;
    }
    if (!m_firstAnswered) {
        m_firstAnswered = true;
        if (answer->offset != expectedEnd) {
            m_resumedFrom = answer->offset;
        }
    }
    m_deviceOffset = answer->offset;
    Q_EMIT progress(m_deviceOffset, m_image.size());
    if (m_deviceOffset == m_image.size()) {
        if (answer->match.has_value() && !*answer->match) {
            finish(fail(QStringLiteral("smp.upload-mismatch"),
                        QStringLiteral("The device says the uploaded image does not match its "
                                       "SHA-256; upload it again.")));
            return;
        }
        finish({});  // answers still outstanding (retransmissions) are ignored from here on
        return;
    }
    if (answer->offset != expectedEnd) {
        m_resync = true;  // the device lost or refused a chunk: continue from its offset
    }
    pump();
}

void ImageUploader::finish(Status result) {
    if (m_done) {
        return;
    }
    m_done = true;
    if (result) {
        Q_EMIT succeeded();
    } else {
        Q_EMIT failed(result.error());
    }
}

}  // namespace otafleet::smp
