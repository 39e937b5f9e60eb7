#include "TestBundles.h"

#include "bundle/BundleBuilder.h"
#include "bundle/Delta.h"

#include <QDir>
#include <QFile>

namespace otafleet::test {
namespace {

Status signWithReleaseKey(const TestPki& pki, const QString& bundlePath) {
    auto key = pki.pki.openReleaseKey(pki.pinProvider());
    if (!key)
        return fail(key.error());
    auto signer = pki.pki.releaseSignerCertificate();
    if (!signer)
        return fail(signer.error());
    auto chain = pki.pki.releaseSignerChain();
    if (!chain)
        return fail(chain.error());
    return bundle::signBundle(bundlePath, **key, *signer, *chain);
}

const QString kBundleSuffix = QStringLiteral(".otab");
const QString kPayloadSuffix = QStringLiteral(".img");

}  // namespace

QString payloadPathOf(const QString& bundlePath) {
    QString path = bundlePath;
    if (path.endsWith(kBundleSuffix))
        path.chop(kBundleSuffix.size());
    return path + kPayloadSuffix;
}

Result<QString> makeSignedBundle(const TestPki& pki, const QString& dir,
                                 const TestBundleSpec& spec) {
    const QString base =
        QDir(dir).filePath(QStringLiteral("firmware-%1-%2").arg(spec.version, spec.hardware));
    QFile payload(base + kPayloadSuffix);
    if (!payload.open(QIODevice::WriteOnly))
        return fail(QStringLiteral("test.io"), QStringLiteral("cannot write %1").arg(base));
    QByteArray data(spec.payloadSize, Qt::Uninitialized);
    const auto seed = static_cast<int>(qHash(spec.version));
    for (qsizetype i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>((i * 131 + seed) & 0xff);
    payload.write(data);
    payload.close();

    auto version = SemVer::parse(spec.version);
    if (!version)
        return fail(version.error());
    bundle::CreateOptions options;
    options.version = *version;
    options.securityVersion = spec.securityVersion;
    options.hardware = {spec.hardware};
    options.payloads = {bundle::PayloadInput{QStringLiteral("rootfs"), QStringLiteral("rootfs"),
                                             payload.fileName(), spec.encoding}};
    const QString out = base + kBundleSuffix;
    if (auto ok = bundle::createBundle(options, out); !ok)
        return fail(ok.error());
    if (auto ok = signWithReleaseKey(pki, out); !ok)
        return fail(ok.error());
    return out;
}

Result<QString> makeSignedDelta(const TestPki& pki, const QString& fromBundle,
                                const QString& toBundle, const QString& outPath) {
    if (auto made = bundle::createDelta(fromBundle, toBundle, outPath); !made)
        return fail(made.error());
    if (auto ok = signWithReleaseKey(pki, outPath); !ok)
        return fail(ok.error());
    return outPath;
}

}  // namespace otafleet::test
