// Uploading a release bundle to otafleetd (ConsoleService.UploadRelease), shared by
// `otafleetctl release upload`, the rollout wizard's upload of a missing release and the
// Releases view: the header, then the file in chunks, then the server's verdict.
#pragma once

#include "common/Error.h"
#include "consoleclient/ConsoleClient.h"

#include <QFile>

#include <functional>

namespace otafleet::client {

struct UploadOptions {
    qint64 chunkBytes = 1024 * 1024;  // at most the server's limit per message
    // Called after each chunk with the bytes sent so far and the file's size; false cancels
    // the upload (error client.upload-cancelled).
    std::function<bool(qint64 sent, qint64 total)> progress;
};

// Streams `file` from its start under `context` (its deadline and bearer token: see
// ConsoleClient::context). Errors io.read-failed, client.upload-cancelled, and the server's own
// refusals (bundle.*, server.release-too-large, store.duplicate, ...) or the connection's.
[[nodiscard]] Result<cpb::Release> uploadRelease(ConsoleClient& client,
                                                 grpc::ClientContext& context, QFile& file,
                                                 const UploadOptions& options = {});

}  // namespace otafleet::client
