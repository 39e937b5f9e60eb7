#include "consoleclient/ReleaseUpload.h"

#include <QFileInfo>

namespace otafleet::client {

Result<cpb::Release> uploadRelease(ConsoleClient& client, grpc::ClientContext& context, QFile& file,
                                   const UploadOptions& options) {
    const qint64 total = file.size();
    if (!file.seek(0) || total <= 0) {
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read %1 (%2); check the path.")
                        .arg(file.fileName(), file.errorString()));
    }
    cpb::Release reply;
    auto writer = client.stub().UploadRelease(&context, &reply);
    cpb::ReleaseChunk chunk;
    chunk.mutable_header()->set_file_name(QFileInfo(file.fileName()).fileName().toStdString());
    chunk.mutable_header()->set_total_size(quint64(total));
    qint64 sent = 0;
    bool streaming = true;
    while (streaming && sent < total) {
        const QByteArray bytes = file.read(options.chunkBytes);
        if (bytes.isEmpty())
            break;
        chunk.set_data(bytes.constData(), std::size_t(bytes.size()));
        streaming = writer->Write(chunk);
        chunk.clear_header();
        sent += bytes.size();
        if (options.progress && !options.progress(sent, total)) {
            context.TryCancel();
            (void)writer->Finish();
            return fail(QStringLiteral("client.upload-cancelled"),
                        QStringLiteral("The upload of %1 was cancelled; otafleetd keeps nothing "
                                       "of it.")
                            .arg(QFileInfo(file.fileName()).fileName()));
        }
    }
    if (streaming && sent < total) {
        context.TryCancel();
        (void)writer->Finish();
        return fail(QStringLiteral("io.read-failed"),
                    QStringLiteral("Could not read %1 to its end (%2); check the file.")
                        .arg(file.fileName(), file.errorString()));
    }
    writer->WritesDone();
    const grpc::Status status = writer->Finish();
    if (!status.ok())
        return fail(client.toError(status));
    return reply;
}

}  // namespace otafleet::client
