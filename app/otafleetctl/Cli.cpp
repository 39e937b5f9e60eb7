#include "Cli.h"

#include "crypto/Pki.h"

#include <QJsonDocument>

#include <unistd.h>
#include <cstdio>

namespace otafleet::cli {
namespace {

void writeTo(FILE* stream, const QString& text) {
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stream);
    std::fflush(stream);
}

}  // namespace

void printError(const Error& error, bool json) {
    if (json) {
        const QJsonObject object{
            {QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), error.code},
                                                  {QStringLiteral("message"), error.message}}}};
        printJson(object);
    }
    writeTo(stderr, QStringLiteral("otafleetctl: %1\n").arg(error.toString()));
}

void printJson(const QJsonObject& object) {
    writeTo(stdout, QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Indented)));
}

void printText(const QString& text) {
    writeTo(stdout, text.endsWith(QLatin1Char('\n')) ? text : text + QLatin1Char('\n'));
}

int failWith(const Error& error, bool json) {
    printError(error, json);
    return kFailure;
}

int usageError(const QString& message) {
    writeTo(stderr, QStringLiteral("otafleetctl: %1 [cli.usage]\nRun with --help for the "
                                   "options.\n")
                        .arg(message));
    return kUsage;
}

ProgressPrinter::ProgressPrinter(QString label)
    : m_label(std::move(label)), m_enabled(::isatty(STDERR_FILENO) == 1) {}

ProgressPrinter::~ProgressPrinter() {
    finish();
}

void ProgressPrinter::setLabel(const QString& label) {
    if (label != m_label) {
        finish();
        m_label = label;
        m_lastPermille = -1;
    }
}

void ProgressPrinter::update(qint64 done, qint64 total) {
    if (!m_enabled) {
        return;
    }
    const int permille = total > 0 ? static_cast<int>(done * 1000 / total) : 0;
    if (permille == m_lastPermille) {
        return;
    }
    m_lastPermille = permille;
    m_open = true;
    writeTo(stderr, QStringLiteral("\r%1 %2% (%3 of %4)   ")
                        .arg(m_label)
                        .arg(permille / 10.0, 5, 'f', 1)
                        .arg(formatBytes(done), formatBytes(total)));
}

void ProgressPrinter::finish() {
    if (m_open) {
        writeTo(stderr, QStringLiteral("\n"));
        m_open = false;
    }
}

std::function<Result<crypto::SecretString>()> pinProvider(const QString& pinEnv,
                                                          const QString& what) {
    return [pinEnv, what]() -> Result<crypto::SecretString> {
        if (!pinEnv.isEmpty()) {
            return crypto::SecretString::fromEnvironment(pinEnv);
        }
        return crypto::SecretString::prompt(QStringLiteral("PIN for %1: ").arg(what));
    };
}

Result<std::unique_ptr<crypto::SigningKey>> openSigningKey(const KeySource& source) {
    if (!source.pkiDir.isEmpty()) {
        const auto pki = crypto::Pki::open(source.pkiDir);
        if (!pki) {
            return fail(pki.error());
        }
        return pki->openSignerKey(
            source.signerName,
            pinProvider(source.pinEnv, QStringLiteral("the key of %1").arg(source.signerName)));
    }
    crypto::KeyOpenOptions options;
    options.pkcs11Module = source.pkcs11Module;
    options.pinProvider = pinProvider(source.pinEnv, source.keyReference);
    return crypto::SigningKey::open(source.keyReference, options);
}

QString formatBytes(qint64 bytes) {
    constexpr double kKiB = 1024.0;
    if (bytes < 1024) {
        return QStringLiteral("%1 B").arg(bytes);
    }
    const double kib = static_cast<double>(bytes) / kKiB;
    if (kib < kKiB) {
        return QStringLiteral("%1 KiB").arg(kib, 0, 'f', 1);
    }
    const double mib = kib / kKiB;
    if (mib < kKiB) {
        return QStringLiteral("%1 MiB").arg(mib, 0, 'f', 1);
    }
    return QStringLiteral("%1 GiB").arg(mib / kKiB, 0, 'f', 2);
}

}  // namespace otafleet::cli
