// `otafleet-agent setup`: turns an empty directory into a ready device for a fleet PKI: config,
// TLS identity issued by the server CA, trust anchors, A/B slot files and a signed factory image
// committed in slot A (the same verify-and-write path an update takes).
#pragma once

#include "common/Error.h"

#include <QString>
#include <QStringList>

namespace otafleet::agent {

struct SetupOptions {
    QString directory;
    QString pkiDirectory;
    QString listen;  // HOST:PORT
    QString model = QStringLiteral("otafleet-devkit");
    QString hardware = QStringLiteral("rev-a");
    QString name;  // default: the directory's name
    QString bootBackend = QStringLiteral("file");
    QString pinEnv;  // environment variable with the token PIN
    QString factoryVersion = QStringLiteral("1.0.0");
    quint64 factorySecurityVersion = 1;
    quint64 slotSize = 64ULL * 1024 * 1024;
    qint64 factoryPayloadSize = 1024 * 1024;
    // CRLs copied into DIR/trust (--crl); PKI/crl.pem is taken as well when it exists.
    QStringList crlFiles;
};

// Errors: agent.setup-exists, agent.setup-invalid, pki.*, crypto.*, bundle.*, io.*.
[[nodiscard]] Status setUpAgent(const SetupOptions& options);

// A reproducible, realistic-looking firmware image: a text header naming model and version,
// then pseudo-random blocks derived from both (SHA-256 in counter mode).
[[nodiscard]] QByteArray pseudoFirmware(const QString& model, const QString& version, qint64 size);

}  // namespace otafleet::agent
