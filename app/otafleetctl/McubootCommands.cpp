// otafleetctl mcuboot ...: sign and verify MCUboot images for microcontrollers (issue 3).
#include "Cli.h"

#include "bundle/McubootImage.h"
#include "common/AtomicFile.h"

#include <QJsonObject>

namespace otafleet::cli {
namespace {

namespace mcuboot = bundle::mcuboot;

const QCommandLineOption kPki(QStringLiteral("pki"),
                              QStringLiteral("PKI directory made by 'pki init': sign with one of "
                                             "its release signers."),
                              QStringLiteral("PKI"));
const QCommandLineOption kSigner(QStringLiteral("signer"),
                                 QStringLiteral("With --pki: the release signer to sign as."),
                                 QStringLiteral("NAME"));
const QCommandLineOption kKey(QStringLiteral("key"),
                              QStringLiteral("sign: the ECDSA P-256 key, a pkcs11: URI or a PEM "
                                             "file. verify: the public key PEM."),
                              QStringLiteral("pkcs11:URI|FILE.pem"));
const QCommandLineOption kModule(QStringLiteral("pkcs11-module"),
                                 QStringLiteral("PKCS#11 module for a pkcs11: key."),
                                 QStringLiteral("SO"));
const QCommandLineOption kPinEnv(QStringLiteral("pin-env"),
                                 QStringLiteral("Read the token PIN from this environment "
                                                "variable instead of asking."),
                                 QStringLiteral("VAR"));
const QCommandLineOption kVersion(QStringLiteral("version"),
                                  QStringLiteral("Image version MAJOR.MINOR.REVISION+BUILD."),
                                  QStringLiteral("V"));
const QCommandLineOption kHeaderSize(QStringLiteral("header-size"),
                                     QStringLiteral("MCUboot header area in bytes (e.g. 0x200), "
                                                    "as the bootloader was configured."),
                                     QStringLiteral("N"));
const QCommandLineOption kSlotSize(QStringLiteral("slot-size"),
                                   QStringLiteral("Image slot size in bytes; the image and the "
                                                  "swap trailer must fit."),
                                   QStringLiteral("N"));
const QCommandLineOption kAlign(QStringLiteral("align"),
                                QStringLiteral("Flash write alignment: 1, 2, 4, 8, 16 or 32."),
                                QStringLiteral("N"), QStringLiteral("1"));
const QCommandLineOption kPadHeader(QStringLiteral("pad-header"),
                                    QStringLiteral("Prepend the header area instead of expecting "
                                                   "zeros at the start of the input."));
const QCommandLineOption kOut(QStringList{QStringLiteral("o"), QStringLiteral("output")},
                              QStringLiteral("Output file."), QStringLiteral("OUT"));
const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print JSON."));

Result<quint32> parseSize(const QCommandLineParser& p, const QCommandLineOption& option) {
    bool ok = false;
    const quint32 value = p.value(option).toUInt(&ok, 0);  // base 0: 0x200 as imgtool takes
    if (!ok) {
        return fail(QStringLiteral("cli.usage"),
                    QStringLiteral("--%1 takes a byte count (decimal or 0x hex), not '%2'.")
                        .arg(option.names().constFirst(), p.value(option)));
    }
    return value;
}

Result<std::unique_ptr<crypto::SigningKey>> openKey(const QCommandLineParser& p) {
    return openSigningKey(KeySource{p.value(kPki), p.value(kSigner), p.value(kKey),
                                    p.value(kModule), p.value(kPinEnv)});
}

int runSign(const QCommandLineParser& p) {
    const QStringList positional = p.positionalArguments();
    if (positional.size() != 1 || !p.isSet(kOut)) {
        return usageError(QStringLiteral("mcuboot sign takes one input file and -o OUT.bin"));
    }
    if (p.isSet(kPki) == p.isSet(kKey) || p.isSet(kPki) != p.isSet(kSigner)) {
        return usageError(
            QStringLiteral("mcuboot sign needs either --pki PKI --signer NAME or "
                           "--key pkcs11:URI|FILE.pem"));
    }
    if (!p.isSet(kVersion) || !p.isSet(kHeaderSize) || !p.isSet(kSlotSize)) {
        return usageError(
            QStringLiteral("mcuboot sign needs --version, --header-size and --slot-size"));
    }
    mcuboot::SignOptions options;
    const auto version = mcuboot::ImageVersion::parse(p.value(kVersion));
    const auto headerSize = parseSize(p, kHeaderSize);
    const auto slotSize = parseSize(p, kSlotSize);
    const auto align = parseSize(p, kAlign);
    if (!version || !headerSize || !slotSize || !align) {
        return failWith(!version      ? version.error()
                        : !headerSize ? headerSize.error()
                        : !slotSize   ? slotSize.error()
                                      : align.error());
    }
    options.version = *version;
    options.headerSize = *headerSize;
    options.slotSize = *slotSize;
    options.align = *align;
    options.padHeader = p.isSet(kPadHeader);

    const auto firmware = readFileBounded(positional.first(), mcuboot::kMaxImageSize);
    if (!firmware) {
        return failWith(firmware.error());
    }
    auto key = openKey(p);
    if (!key) {
        return failWith(key.error());
    }
    const auto image = mcuboot::signImage(*firmware, options, **key);
    if (!image) {
        return failWith(image.error());
    }
    if (const Status written = writeFileAtomically(p.value(kOut), *image); !written) {
        return failWith(written.error());
    }
    printText(QStringLiteral("Wrote %1: MCUboot image %2, %3, signed with %4.")
                  .arg(p.value(kOut), options.version.toString(), formatBytes(image->size()),
                       (*key)->description()));
    return kSuccess;
}

int runVerify(const QCommandLineParser& p) {
    const QStringList positional = p.positionalArguments();
    if (positional.size() != 1 || !p.isSet(kKey)) {
        return usageError(QStringLiteral("mcuboot verify takes --key PUB.pem and one image"));
    }
    const bool json = p.isSet(kJson);
    constexpr qint64 kMaxPublicKeyPem = 64 * 1024;
    const auto publicKey = readFileBounded(p.value(kKey), kMaxPublicKeyPem);
    if (!publicKey) {
        return failWith(publicKey.error(), json);
    }
    const auto image = readFileBounded(positional.first(), mcuboot::kMaxImageSize);
    if (!image) {
        return failWith(image.error(), json);
    }
    const auto info = mcuboot::verifyImage(*image, *publicKey);
    if (!info) {
        return failWith(info.error(), json);
    }
    if (json) {
        printJson(
            QJsonObject{{QStringLiteral("verified"), true},
                        {QStringLiteral("version"), info->version.toString()},
                        {QStringLiteral("header_size"), qint64(info->headerSize)},
                        {QStringLiteral("image_size"), qint64(info->imageSize)},
                        {QStringLiteral("sha256"), QString::fromLatin1(info->sha256.toHex())}});
    } else {
        printText(QStringLiteral("OK: MCUboot image %1, %2 firmware, SHA-256 %3, signed by the "
                                 "given key.")
                      .arg(info->version.toString(), formatBytes(info->imageSize),
                           QString::fromLatin1(info->sha256.toHex())));
    }
    return kSuccess;
}

}  // namespace

QList<Command> mcubootCommands() {
    return {
        Command{QStringLiteral("mcuboot"), QStringLiteral("sign"),
                QStringLiteral("Sign firmware as an MCUboot image (header, SHA-256, key hash, "
                               "ECDSA P-256)."),
                QStringLiteral("IN.bin"),
                [](QCommandLineParser& p) {
                    p.addOptions({kPki, kSigner, kKey, kModule, kPinEnv, kVersion, kHeaderSize,
                                  kSlotSize, kAlign, kPadHeader, kOut});
                    p.addPositionalArgument(QStringLiteral("firmware"),
                                            QStringLiteral("The firmware binary."));
                },
                runSign},
        Command{QStringLiteral("mcuboot"), QStringLiteral("verify"),
                QStringLiteral("Check an MCUboot image's hash, key hash and signature."),
                QStringLiteral("IMG.bin"),
                [](QCommandLineParser& p) {
                    p.addOptions({kKey, kJson});
                    p.addPositionalArgument(QStringLiteral("image"),
                                            QStringLiteral("The signed MCUboot image."));
                },
                runVerify},
    };
}

}  // namespace otafleet::cli
