#include "SampleReleases.h"

#include "crypto/Pki.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace otafleet::app {

namespace {

constexpr qint64 kPayloadSize = 96 * 1024;

struct SampleRelease {
    const char* version;
    quint64 securityVersion;
    const char* hardware;
    const char* notes;  // signed into the manifest
    const char* keptNotes;
    bool twoPerson;
    bool revoked;
};

const SampleRelease kReleases[] = {
    {"1.2.0", 3, "rev-a,rev-b", "Faster boot; new watchdog defaults.",
     "Rolled out to every gateway in October.", false, false},
    {"1.2.1-rc.1", 3, "rev-a", "Release candidate of the 1.2.1 fixes.",
     "Withdrawn: the candidate bricked a test gateway's radio.", false, true},
    {"1.3.0", 4, "rev-a,rev-b",
     "Security fix for the TLS session cache (CVE-2026-1234); raises the security version, so "
     "devices cannot go back to 1.2.x.",
     "Two-person release: signed by the release manager and the security officer.", true, false},
};

Status makePayload(const QString& path, int seed) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("%1 cannot be written.").arg(path));
    }
    QByteArray block(kPayloadSize, '\0');
    for (qint64 i = 0; i < kPayloadSize; ++i)
        block[i] = static_cast<char>((i * 31 + seed * 7) & 0xff);
    if (file.write(block) != block.size()) {
        return fail(QStringLiteral("io.write-failed"),
                    QStringLiteral("%1 cannot be written.").arg(path));
    }
    return {};
}

// A PKI with key files for the sample, or the one already there if its keys are files too.
Status ensurePki(const QString& pkiDir) {
    if (QFileInfo::exists(QDir(pkiDir).filePath(QStringLiteral("pki.json")))) {
        auto pki = crypto::Pki::open(pkiDir);
        if (!pki)
            return fail(pki.error());
        if (pki->keysInToken()) {
            return fail(QStringLiteral("sample.token-pki"),
                        QStringLiteral("The PKI keeps its keys in a token; sample releases are "
                                       "not signed without its PIN."));
        }
    } else {
        crypto::PkiInitOptions options;
        options.directory = pkiDir;
        options.commonNamePrefix = QStringLiteral("otafleet sample");
        if (auto made = crypto::Pki::init(options); !made)
            return fail(made.error());
    }
    auto pki = crypto::Pki::open(pkiDir);
    if (!pki)
        return fail(pki.error());
    if (pki->find(QStringLiteral("security-officer")))
        return {};
    crypto::IssueOptions second;
    second.kind = crypto::IssueKind::ReleaseSigner;
    second.name = QStringLiteral("security-officer");
    if (auto issued = pki->issue(second); !issued)
        return fail(issued.error());
    return {};
}

}  // namespace

Status SampleReleases::seed(const fleet::release::Places& places) {
    auto existing = fleet::release::load(places);
    if (!existing)
        return fail(existing.error());
    if (!existing->isEmpty()) {
        return fail(QStringLiteral("sample.not-empty"),
                    QStringLiteral("The fleet has releases already."));
    }
    if (auto ok = ensurePki(places.pkiDir); !ok)
        return ok;
    const fleet::release::Control none;
    int seed = 0;
    for (const SampleRelease& r : kReleases) {
        const QString payload =
            QDir(places.releaseDir)
                .filePath(QStringLiteral("sample-rootfs-%1.img").arg(QLatin1String(r.version)));
        if (!QDir().mkpath(places.releaseDir))
            return fail(QStringLiteral("io.write-failed"),
                        QStringLiteral("%1 cannot be created.").arg(places.releaseDir));
        if (auto ok = makePayload(payload, ++seed); !ok)
            return ok;
        fleet::ReleaseDraft draft;
        draft.product = QStringLiteral("gateway-x1");
        draft.version = QLatin1String(r.version);
        draft.securityVersion = r.securityVersion;
        draft.hardware = QString::fromLatin1(r.hardware).split(u',');
        draft.expires = QDateTime::currentDateTimeUtc().addDays(365);
        draft.releaseNotes = QString::fromUtf8(r.notes);
        draft.payloads = {{QStringLiteral("rootfs"), QStringLiteral("rootfs"), payload}};
        auto built = fleet::release::build(places, draft, none);
        QFile::remove(payload);
        if (!built)
            return fail(built.error());
        QStringList signers{QStringLiteral("release")};
        if (r.twoPerson)
            signers << QStringLiteral("security-officer");
        for (const QString& signer : signers) {
            if (auto signedBundle = fleet::release::sign(places, *built, signer, {});
                !signedBundle) {
                return fail(signedBundle.error());
            }
        }
        auto id =
            fleet::release::importBundle(places, *built, QString::fromUtf8(r.keptNotes), none);
        if (!id)
            return fail(id.error());
        if (r.revoked) {
            if (auto ok = fleet::release::revoke(places, *id, QStringLiteral("bricked a radio"));
                !ok) {
                return ok;
            }
        }
    }
    return {};
}

}  // namespace otafleet::app
