// Uploads an image into a device's secondary slot over SMP (smp_group_1 "Image upload"): asks
// the device for its buffer size and count (MCUmgr parameters), cuts chunks so a whole request
// fits that buffer, keeps up to min(buf_count, maxInFlight) requests outstanding, and always
// continues from the offset the device answers, so an upload interrupted anywhere (lost
// datagrams, a reset, a pulled cable and a new run) resumes instead of starting over.
#pragma once

#include "common/Error.h"
#include "smp/SmpClient.h"

#include <QObject>

namespace otafleet::smp {

class ImageUploader : public QObject {
    Q_OBJECT

public:
    ImageUploader(SmpClient& client, QObject* parent = nullptr);

    // maxInFlight 0: as many as the device's buf_count.
    void start(QByteArray image, int maxInFlight = 0);

    [[nodiscard]] qint64 resumedFrom() const { return m_resumedFrom; }
    [[nodiscard]] qint64 chunkSize() const { return m_chunkSize; }
    [[nodiscard]] int window() const { return m_window; }

Q_SIGNALS:
    void progress(qint64 done, qint64 total);
    // Exactly one of these, once.
    void succeeded();
    void failed(const otafleet::Error& error);

private:
    void onParameters(Result<QCborMap> body);
    void pump();
    void sendChunk(qint64 offset);
    void onChunkAnswer(qint64 expectedEnd, Result<QCborMap> body);
    void finish(Status result);

    SmpClient& m_client;
    QByteArray m_image;
    QByteArray m_sha;
    int m_maxInFlight = 0;
    int m_window = 1;
    qint64 m_chunkSize = 0;
    qint64 m_next = 0;          // next offset to send
    qint64 m_deviceOffset = 0;  // what the device last said it wants
    qint64 m_resumedFrom = 0;
    int m_outstanding = 0;
    bool m_firstAnswered = false;
    bool m_resync = false;
    bool m_done = false;
};

}  // namespace otafleet::smp
