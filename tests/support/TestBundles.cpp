#include "TestBundles.h"

#include "bundle/BundleBuilder.h"

#include <QDir>
#include <QFile>

namespace otafleet::test {

Result<QString> makeSignedBundle(const TestPki& pki, const QString& dir,
                                 const TestBundleSpec& spec) {
    const QString base =
        QDir(dir).filePath(QStringLiteral("firmware-%1-%2").arg(spec.version, spec.hardware));
    QFile payload(base + QStringLiteral(".img"));
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
                                             payload.fileName()}};
    const QString out = base + QStringLiteral(".otab");
    if (auto ok = bundle::createBundle(options, out); !ok)
        return fail(ok.error());
    auto key = pki.pki.openReleaseKey(pki.pinProvider());
    if (!key)
        return fail(key.error());
    auto signer = pki.pki.releaseSignerCertificate();
    if (!signer)
        return fail(signer.error());
    auto chain = pki.pki.releaseSignerChain();
    if (!chain)
        return fail(chain.error());
    if (auto ok = bundle::signBundle(out, **key, *signer, *chain); !ok)
        return fail(ok.error());
    return out;
}

}  // namespace otafleet::test
