#include "TestPki.h"

#include "SoftHsmEnvironment.h"

#include <QDir>

namespace otafleet::test {

namespace {
std::function<Result<crypto::SecretString>()> fixedSecret(const char* value) {
    return [value]() -> Result<crypto::SecretString> {
        return crypto::SecretString(QByteArray(value));
    };
}
}  // namespace

Result<TestPki> TestPki::create(const QString& dir, bool token) {
    qputenv(kPinEnv, kPin);
    crypto::PkiInitOptions options;
    options.directory = QDir(dir).absoluteFilePath(QStringLiteral("pki"));
    if (token) {
        const SoftHsmEnvironment softHsm(QDir(dir).absoluteFilePath(QStringLiteral("softhsm")));
        options.pkcs11Module = softHsm.modulePath();
        options.tokenLabel = QString::fromLatin1(kTokenLabel);
        options.initToken = true;
        options.pinProvider = fixedSecret(kPin);
        options.soPinProvider = fixedSecret(kSoPin);
    }
    options.commonNamePrefix = QStringLiteral("otafleet-test");
    if (auto report = crypto::Pki::init(options); !report) {
        return fail(report.error().withContext(QStringLiteral("creating the test PKI")));
    }
    auto pki = crypto::Pki::open(options.directory);
    if (!pki) {
        return fail(pki.error());
    }
    TestPki result;
    result.pkiDir = options.directory;
    result.pki = std::move(*pki);
    return result;
}

std::function<Result<crypto::SecretString>()> TestPki::pinProvider() const {
    return fixedSecret(kPin);
}

}  // namespace otafleet::test
