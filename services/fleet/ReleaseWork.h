// The work behind EmbeddedReleases, as plain synchronous functions that run on a worker thread:
// each opens what it needs there (its own connection to the fleet's store, the PKI, the token)
// and closes it before returning, so nothing is shared across threads. The bundle is built and
// signed by the same BundleBuilder and PKI code `otafleetctl bundle create/sign` uses, and
// checked by the same inspection the File > Open report shows.
#pragma once

#include "common/Error.h"
#include "fleet/BundleReport.h"
#include "fleet/ReleaseService.h"

#include <QByteArray>
#include <QString>

#include <functional>

namespace otafleet::fleet::release {

// Where the embedded releases live.
struct Places {
    QString storePath;   // the fleet's SQLite file (a second connection is opened to it);
                         // empty for a server's fleet: build() and sign() need none
    QString pkiDir;      // the fleet PKI: its root is the release trust, its signers sign
    QString releaseDir;  // bundles kept as ID.otab; work files in releaseDir/work
    QString user;        // who the store and the audit log name as acting
};

// Progress and Cancel of one request, called from the worker thread.
struct Control {
    std::function<void(const QString& phase, qint64 done, qint64 total)> progress;
    std::function<bool()> cancelled;

    void report(const QString& phase, qint64 done, qint64 total) const {
        if (progress)
            progress(phase, done, total);
    }
    [[nodiscard]] bool stop() const { return cancelled && cancelled(); }
};

// The error a stopped request ends with.
[[nodiscard]] Error cancelledError();

[[nodiscard]] Result<QList<ReleaseInfo>> load(const Places& places);
[[nodiscard]] Result<QList<ReleaseSigner>> listSigners(const QString& pkiDir);
// The path of the unsigned bundle made in releaseDir/work.
[[nodiscard]] Result<QString> build(const Places& places, const ReleaseDraft& draft,
                                    const Control& control);
// Adds a signature; `pin` is wiped before returning.
[[nodiscard]] Result<QString> sign(const Places& places, const QString& bundlePath,
                                   const QString& signerName, QByteArray pin);
// The new release's id.
[[nodiscard]] Result<QString> importBundle(const Places& places, const QString& bundlePath,
                                           const QString& notes, const Control& control);
[[nodiscard]] Status revoke(const Places& places, const QString& id, const QString& reason);
[[nodiscard]] Status setNotes(const Places& places, const QString& id, const QString& notes);
// The stored bundle checked again, as File > Open checks a file.
[[nodiscard]] BundleReport inspect(const Places& places, const QString& id);

}  // namespace otafleet::fleet::release
