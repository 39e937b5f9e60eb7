// Internal: the "issued" list of pki.json (every leaf `pki issue` made, plus the init-made
// release signer and operator identity) and the helpers the leaf-management code shares:
// reading and rewriting pki.json, key-reference paths, and a PIN asked at most once.
#pragma once

#include "common/Error.h"
#include "crypto/Pki.h"

#include <QJsonObject>
#include <QList>
#include <QLockFile>
#include <QString>

#include <memory>

namespace otafleet::crypto::registry {

// The whole pki.json object, bounded in size. Errors pki.not-found, pki.invalid.
[[nodiscard]] Result<QJsonObject> read(const QString& directory);
// Serialises read-modify-write of pki.json between processes (two operators issuing at the
// same time would otherwise lose one entry). Error pki.busy after a few seconds of waiting.
[[nodiscard]] Result<std::unique_ptr<QLockFile>> lock(const QString& directory);
// Rewrites pki.json atomically. Error io.write-failed.
[[nodiscard]] Status write(const QString& directory, const QJsonObject& json);

// The leaves pki.json records; "release" and "operator" are made up from init's files when an
// older pki.json does not list them yet. Error pki.invalid.
[[nodiscard]] Result<QList<IssuedCertificate>> entries(const QString& directory,
                                                       const QJsonObject& json);
// Replaces the "issued" member of `json` with `list`.
void store(const QString& directory, QJsonObject& json, const QList<IssuedCertificate>& list);

// pki.json locked for a read-modify-write, read and parsed: where issue and revoke start.
struct Change {
    std::unique_ptr<QLockFile> lock;
    QJsonObject json;
    QList<IssuedCertificate> list;
    // Stores `list` into `json` and rewrites pki.json (still under the lock). io.write-failed.
    [[nodiscard]] Status commit(const QString& directory);
};
// Errors pki.busy, pki.not-found, pki.invalid.
[[nodiscard]] Result<Change> beginChange(const QString& directory);

// The key name (pki.json "keys" member, ca/NAME.pem) of the CA that issues `kind`.
[[nodiscard]] QString caKeyName(IssueKind kind);
// pki.json keeps paths relative to the PKI so the directory can move; URIs stay as they are.
[[nodiscard]] QString resolve(const QString& directory, const QString& reference);
[[nodiscard]] QString relativize(const QString& directory, const QString& reference);

// Calls `provider` on first use only and hands out copies afterwards: one operation may open
// several token objects but asks for the PIN once. The cached PIN is wiped with the returned
// function.
[[nodiscard]] PinProvider askOnce(PinProvider provider);

}  // namespace otafleet::crypto::registry
