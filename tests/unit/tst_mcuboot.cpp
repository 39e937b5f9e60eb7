// MCUboot images: signing with a PEM key and a SoftHSM token key, the header and TLV layout byte
// by byte against MCUboot's format, the signature and key hash checked independently with the
// openssl command, and every way verification refuses an image, each with its own code.

#include "TestPki.h"
#include "bundle/McubootImage.h"
#include "crypto/Sha256.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include <memory>
#include <optional>

using namespace otafleet;
using namespace otafleet::bundle::mcuboot;
using otafleet::test::TestPki;

namespace {

constexpr quint32 kHdr = 0x200;
constexpr quint32 kSlot = 0x20000;

QByteArray firmwareBytes(qsizetype size) {
    QByteArray bytes(size, '\0');
    quint32 x = 88172645U;
    for (qsizetype i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes[i] = static_cast<char>(x);
    }
    return bytes;
}

bool writeAll(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

quint16 u16(const QByteArray& d, qsizetype o) {
    return qFromLittleEndian<quint16>(reinterpret_cast<const uchar*>(d.constData()) + o);
}
quint32 u32(const QByteArray& d, qsizetype o) {
    return qFromLittleEndian<quint32>(reinterpret_cast<const uchar*>(d.constData()) + o);
}

// Offset of the value of the first TLV of `type` in the unprotected area, or -1.
qsizetype tlvValueOffset(const QByteArray& image, quint16 type) {
    qsizetype o = qsizetype(u16(image, 8)) + u32(image, 12);
    const qsizetype end = o + u16(image, o + 2);
    for (o += kTlvInfoSize; o + kTlvSize <= end; o += kTlvSize + u16(image, o + 2)) {
        if (u16(image, o) == type) {
            return o + kTlvSize;
        }
    }
    return -1;
}

QString errorOf(const auto& result) {
    return result ? QString() : result.error().toString();
}

}  // namespace

class TestMcuboot : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void signAndVerify_data();
    void signAndVerify();
    void headerAndTlvLayout();
    void opensslChecksSignatureAndKeyHash();
    void refusesDamagedImages_data();
    void refusesDamagedImages();
    void truncatedEverywhere();
    void tooLargeForSlot_data();
    void tooLargeForSlot();
    void refusesBadInput();
    void versionParsing_data();
    void versionParsing();
    void commandLineWithTokenSigner();
    void committedFuzzSeedsParse();

private:
    [[nodiscard]] QString path(const QString& name) const { return m_dir.filePath(name); }
    [[nodiscard]] QByteArray signWith(const TestPki& pki, const SignOptions& options,
                                      const QByteArray& firmware) const;
    [[nodiscard]] static SignOptions defaults();

    QTemporaryDir m_dir;
    std::optional<TestPki> m_pem;
    std::optional<TestPki> m_token;
    std::optional<TestPki> m_other;
    QByteArray m_pemPublic;
    QByteArray m_tokenPublic;
    QByteArray m_otherPublic;
    QByteArray m_firmware = firmwareBytes(5000);
    QByteArray m_image;  // m_firmware signed with m_pem, --pad-header
};

SignOptions TestMcuboot::defaults() {
    SignOptions o;
    o.version = ImageVersion{1, 2, 3, 4};
    o.headerSize = kHdr;
    o.slotSize = kSlot;
    o.padHeader = true;
    return o;
}

QByteArray TestMcuboot::signWith(const TestPki& pki, const SignOptions& options,
                                 const QByteArray& firmware) const {
    auto key = pki.pki.openSignerKey(QStringLiteral("release"), pki.pinProvider());
    if (!key) {
        qWarning().noquote() << key.error().toString();
        return {};
    }
    auto image = signImage(firmware, options, **key);
    if (!image) {
        qWarning().noquote() << image.error().toString();
        return {};
    }
    return *image;
}

void TestMcuboot::initTestCase() {
    QVERIFY(m_dir.isValid());
    auto pem = TestPki::create(path(QStringLiteral("pem")), false);
    QVERIFY2(pem.has_value(), qPrintable(errorOf(pem)));
    m_pem.emplace(std::move(*pem));
    auto token = TestPki::create(path(QStringLiteral("token")), true);
    QVERIFY2(token.has_value(), qPrintable(errorOf(token)));
    m_token.emplace(std::move(*token));
    auto other = TestPki::create(path(QStringLiteral("other")), false);
    QVERIFY2(other.has_value(), qPrintable(errorOf(other)));
    m_other.emplace(std::move(*other));
    const QString release = QStringLiteral("release");
    m_pemPublic = m_pem->pki.publicKeyPem(release).value_or(QByteArray());
    m_tokenPublic = m_token->pki.publicKeyPem(release).value_or(QByteArray());
    m_otherPublic = m_other->pki.publicKeyPem(release).value_or(QByteArray());
    QVERIFY(!m_pemPublic.isEmpty() && !m_tokenPublic.isEmpty() && !m_otherPublic.isEmpty());
    m_image = signWith(*m_pem, defaults(), m_firmware);
    QVERIFY(!m_image.isEmpty());
}

void TestMcuboot::signAndVerify_data() {
    QTest::addColumn<bool>("token");
    QTest::addColumn<bool>("padHeader");
    QTest::addColumn<quint32>("align");
    QTest::newRow("pem, pad header") << false << true << 1U;
    QTest::newRow("pem, linked-in header") << false << false << 8U;
    QTest::newRow("softhsm token, pad header") << true << true << 4U;
    QTest::newRow("softhsm token, linked-in header") << true << false << 32U;
}

void TestMcuboot::signAndVerify() {
    QFETCH(bool, token);
    QFETCH(bool, padHeader);
    QFETCH(quint32, align);
    SignOptions o = defaults();
    o.padHeader = padHeader;
    o.align = align;
    const QByteArray input = padHeader ? m_firmware : QByteArray(kHdr, '\0') + m_firmware;
    const QByteArray image = signWith(token ? *m_token : *m_pem, o, input);
    QVERIFY(!image.isEmpty());
    const auto info = verifyImage(image, token ? m_tokenPublic : m_pemPublic);
    QVERIFY2(info.has_value(), qPrintable(errorOf(info)));
    QCOMPARE(info->version, o.version);
    QCOMPARE(info->headerSize, kHdr);
    QCOMPARE(qsizetype(info->imageSize), m_firmware.size());
    QCOMPARE(info->tlvEnd, image.size());
    QCOMPARE(image.mid(kHdr, m_firmware.size()), m_firmware);
    // The other fleet's key is refused even though the image is intact.
    const auto foreign = verifyImage(image, token ? m_pemPublic : m_otherPublic);
    QVERIFY(!foreign.has_value());
    QCOMPARE(foreign.error().code, QStringLiteral("mcuboot.key-mismatch"));
}

void TestMcuboot::headerAndTlvLayout() {
    const QByteArray& img = m_image;
    // struct image_header, little-endian.
    QCOMPARE(img.left(4), QByteArray::fromHex("3db8f396"));             // IMAGE_MAGIC 0x96f3b83d
    QCOMPARE(u32(img, 4), 0U);                                          // ih_load_addr
    QCOMPARE(u16(img, 8), quint16(kHdr));                               // ih_hdr_size
    QCOMPARE(u16(img, 10), quint16(0));                                 // ih_protect_tlv_size
    QCOMPARE(u32(img, 12), quint32(m_firmware.size()));                 // ih_img_size
    QCOMPARE(u32(img, 16), 0U);                                         // ih_flags
    QCOMPARE(img.mid(20, 8), QByteArray::fromHex("0102030004000000"));  // ih_ver 1.2.3+4
    QCOMPARE(u32(img, 28), 0U);                                         // _pad1
    // imgtool --pad-header fills the rest of the header area with the erased value.
    QCOMPARE(img.mid(32, kHdr - 32), QByteArray(kHdr - 32, '\xff'));
    // Unprotected TLV area: info, then SHA256, KEYHASH, ECDSA_SIG in imgtool's order.
    const qsizetype t = kHdr + m_firmware.size();
    QCOMPARE(u16(img, t), quint16(0x6907));
    QCOMPARE(qsizetype(u16(img, t + 2)), img.size() - t);
    QCOMPARE(img.mid(t + 4, 4), QByteArray::fromHex("10002000"));
    QCOMPARE(img.mid(t + 8, 32), crypto::Sha256::hash(img.left(t)));
    QCOMPARE(img.mid(t + 40, 4), QByteArray::fromHex("01002000"));
    QCOMPARE(img.mid(t + 76, 2), QByteArray::fromHex("2200"));
    const quint16 sigLen = u16(img, t + 78);
    QVERIFY(sigLen >= 8 && sigLen <= 72);
    QCOMPARE(img.at(t + 80), '\x30');  // DER SEQUENCE, unpadded as imgtool >= 1.5 writes it
    QCOMPARE(qsizetype(quint8(img.at(t + 81))) + 2, qsizetype(sigLen));
    QCOMPARE(qsizetype(t + 80 + sigLen), img.size());
    // The slot trailer is imgtool's swap trailer: 128 sectors * 3 * align + 4 * 8 + 16.
    QCOMPARE(trailerSize(1), 128U * 3 + 32 + 16);
    QCOMPARE(trailerSize(8), 128U * 3 * 8 + 32 + 16);
    QCOMPARE(trailerSize(32), 128U * 3 * 32 + 32 * 4 + 32);
    QCOMPARE(trailerSize(3), 0U);
}

void TestMcuboot::opensslChecksSignatureAndKeyHash() {
    const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    if (openssl.isEmpty()) {
        QSKIP("the openssl command is not installed");
    }
    const qsizetype sha = tlvValueOffset(m_image, kTlvSha256);
    const qsizetype keyHash = tlvValueOffset(m_image, kTlvKeyHash);
    const qsizetype sig = tlvValueOffset(m_image, kTlvEcdsaSig);
    QVERIFY(sha > 0 && keyHash > 0 && sig > 0);
    const QString hashFile = path(QStringLiteral("hash.bin"));
    const QString sigFile = path(QStringLiteral("sig.der"));
    const QString pubFile = path(QStringLiteral("pub.pem"));
    QVERIFY(writeAll(hashFile, m_image.mid(sha, 32)));
    QVERIFY(writeAll(sigFile, m_image.mid(sig, u16(m_image, sig - 2))));
    QVERIFY(writeAll(pubFile, m_pemPublic));
    const auto run = [&](const QStringList& args) -> std::pair<int, QByteArray> {
        QProcess p;
        p.start(openssl, args);
        if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit) {
            return {-1, {}};
        }
        return {p.exitCode(), p.readAllStandardOutput()};
    };
    // ECDSA over the 32-byte image hash, as bootutil checks it.
    const auto verified =
        run({QStringLiteral("pkeyutl"), QStringLiteral("-verify"), QStringLiteral("-pubin"),
             QStringLiteral("-inkey"), pubFile, QStringLiteral("-in"), hashFile,
             QStringLiteral("-sigfile"), sigFile});
    QCOMPARE(verified.first, 0);
    QVERIFY(writeAll(hashFile, crypto::Sha256::hash("not the image")));
    QVERIFY(run({QStringLiteral("pkeyutl"), QStringLiteral("-verify"), QStringLiteral("-pubin"),
                 QStringLiteral("-inkey"), pubFile, QStringLiteral("-in"), hashFile,
                 QStringLiteral("-sigfile"), sigFile})
                .first != 0);
    // KEYHASH = SHA-256 of the SubjectPublicKeyInfo DER (imgtool's get_public_bytes()).
    const auto der = run({QStringLiteral("pkey"), QStringLiteral("-pubin"), QStringLiteral("-in"),
                          pubFile, QStringLiteral("-outform"), QStringLiteral("DER")});
    QCOMPARE(der.first, 0);
    QCOMPARE(m_image.mid(keyHash, 32), crypto::Sha256::hash(der.second));
}

void TestMcuboot::refusesDamagedImages_data() {
    QTest::addColumn<QByteArray>("image");
    QTest::addColumn<QString>("code");
    const QByteArray good = m_image;
    const qsizetype tlv = kHdr + m_firmware.size();
    const auto patched = [&good](qsizetype offset, QByteArray bytes) {
        QByteArray copy = good;
        copy.replace(offset, bytes.size(), bytes);
        return copy;
    };
    const auto flipped = [&good](qsizetype offset) {
        QByteArray copy = good;
        copy[offset] = static_cast<char>(copy.at(offset) ^ 0x01);
        return copy;
    };
    const qsizetype sig = tlvValueOffset(good, kTlvEcdsaSig);
    QTest::newRow("firmware byte")
        << flipped(kHdr + 1234) << QStringLiteral("mcuboot.hash-mismatch");
    QTest::newRow("version in header") << flipped(20) << QStringLiteral("mcuboot.hash-mismatch");
    QTest::newRow("header padding") << flipped(100) << QStringLiteral("mcuboot.hash-mismatch");
    QTest::newRow("stored hash") << flipped(tlv + 8) << QStringLiteral("mcuboot.hash-mismatch");
    QTest::newRow("key hash") << flipped(tlv + 44) << QStringLiteral("mcuboot.key-mismatch");
    QTest::newRow("signature r") << flipped(sig + 10) << QStringLiteral("mcuboot.bad-signature");
    QTest::newRow("signature DER")
        << patched(sig, "\x31") << QStringLiteral("mcuboot.bad-signature");
    QTest::newRow("image magic") << flipped(0) << QStringLiteral("mcuboot.bad-magic");
    QTest::newRow("not an image") << QByteArray(4096, '\0') << QStringLiteral("mcuboot.bad-magic");
    QTest::newRow("TLV info magic") << flipped(tlv) << QStringLiteral("mcuboot.tlv-malformed");
    QTest::newRow("TLV total too small")
        << patched(tlv + 2, QByteArray("\x02\x00", 2)) << QStringLiteral("mcuboot.tlv-malformed");
    QTest::newRow("TLV total beyond file")
        << patched(tlv + 2, QByteArray("\xff\x7f", 2)) << QStringLiteral("mcuboot.truncated");
    QTest::newRow("TLV length beyond area")
        << patched(tlv + 6, QByteArray("\xff\x00", 2)) << QStringLiteral("mcuboot.tlv-malformed");
    QTest::newRow("SHA256 of 31 bytes")
        << patched(tlv + 6, QByteArray("\x1f\x00", 2)) << QStringLiteral("mcuboot.tlv-malformed");
    QTest::newRow("two SHA256") << patched(tlv + 40, QByteArray("\x10\x00", 2))
                                << QStringLiteral("mcuboot.tlv-malformed");
    QTest::newRow("image size beyond file")
        << patched(12, QByteArray("\xff\xff\xff\xff", 4)) << QStringLiteral("mcuboot.truncated");
    QTest::newRow("header size below 32")
        << patched(8, QByteArray("\x10\x00", 2)) << QStringLiteral("mcuboot.tlv-malformed");
    QTest::newRow("protected area declared, absent")
        << patched(10, QByteArray("\x10\x00", 2)) << QStringLiteral("mcuboot.tlv-malformed");
    QTest::newRow("protected area not declared")
        << patched(tlv, QByteArray("\x08\x69", 2)) << QStringLiteral("mcuboot.tlv-malformed");
    QByteArray unsignedImage = good.left(tlv + 40);
    unsignedImage[tlv + 2] = 40;
    QTest::newRow("hash only, unsigned") << unsignedImage << QStringLiteral("mcuboot.unsigned");
}

void TestMcuboot::refusesDamagedImages() {
    QFETCH(QByteArray, image);
    QFETCH(QString, code);
    const auto result = verifyImage(image, m_pemPublic);
    QVERIFY(!result.has_value());
    QCOMPARE(result.error().code, code);
    QVERIFY(!result.error().message.isEmpty());
}

void TestMcuboot::truncatedEverywhere() {
    const qsizetype tlv = kHdr + m_firmware.size();
    for (const qsizetype length :
         {qsizetype(0), qsizetype(4), qsizetype(31), qsizetype(32), qsizetype(kHdr), tlv - 1, tlv,
          tlv + 3, tlv + 4, tlv + 40, m_image.size() - 1}) {
        const auto result = verifyImage(m_image.left(length), m_pemPublic);
        QVERIFY2(!result.has_value(), qPrintable(QString::number(length)));
        QCOMPARE(result.error().code, QStringLiteral("mcuboot.truncated"));
    }
    // Erased flash after the TLVs (a whole slot read back) is not an error.
    const auto padded = verifyImage(m_image + QByteArray(4096, '\xff'), m_pemPublic);
    QVERIFY2(padded.has_value(), qPrintable(errorOf(padded)));
}

void TestMcuboot::tooLargeForSlot_data() {
    QTest::addColumn<quint32>("slot");
    QTest::addColumn<quint32>("align");
    QTest::addColumn<bool>("fits");
    // ECDSA signatures vary in DER length (up to 72 bytes): bound the image from both sides.
    const quint32 tlvsWithoutSignature = kHdr + quint32(m_firmware.size()) + 4 + 36 + 36 + 4;
    const quint32 longest = tlvsWithoutSignature + 72 + trailerSize(1);
    QTest::newRow("fits with the longest signature") << longest << 1U << true;
    QTest::newRow("no room for a signature")
        << tlvsWithoutSignature + trailerSize(1) + 7 << 1U << false;
    QTest::newRow("trailer of align 8 does not fit") << longest << 8U << false;
    QTest::newRow("smaller than the firmware") << 4096U << 1U << false;
}

void TestMcuboot::tooLargeForSlot() {
    QFETCH(quint32, slot);
    QFETCH(quint32, align);
    QFETCH(bool, fits);
    SignOptions o = defaults();
    o.slotSize = slot;
    o.align = align;
    auto key = m_pem->pki.openSignerKey(QStringLiteral("release"), m_pem->pinProvider());
    QVERIFY(key.has_value());
    const auto image = signImage(m_firmware, o, **key);
    QCOMPARE(image.has_value(), fits);
    if (!fits) {
        QCOMPARE(image.error().code, QStringLiteral("mcuboot.too-large"));
    }
}

void TestMcuboot::refusesBadInput() {
    auto key = m_pem->pki.openSignerKey(QStringLiteral("release"), m_pem->pinProvider());
    QVERIFY(key.has_value());
    SignOptions o = defaults();
    o.padHeader = false;
    // Without --pad-header the linker must have left the header area zero.
    auto image = signImage(m_firmware, o, **key);
    QVERIFY(!image.has_value());
    QCOMPARE(image.error().code, QStringLiteral("mcuboot.header-not-empty"));
    image = signImage(QByteArray(100, '\0'), o, **key);
    QVERIFY(!image.has_value());
    QCOMPARE(image.error().code, QStringLiteral("mcuboot.header-not-empty"));
    o = defaults();
    o.headerSize = 16;
    image = signImage(m_firmware, o, **key);
    QVERIFY(!image.has_value());
    QCOMPARE(image.error().code, QStringLiteral("mcuboot.bad-option"));
    o = defaults();
    o.align = 3;
    image = signImage(m_firmware, o, **key);
    QVERIFY(!image.has_value());
    QCOMPARE(image.error().code, QStringLiteral("mcuboot.bad-option"));
    const auto badKey = verifyImage(m_image, "-----BEGIN PUBLIC KEY-----\nnope\n");
    QVERIFY(!badKey.has_value());
    QCOMPARE(badKey.error().code, QStringLiteral("mcuboot.bad-key"));
}

void TestMcuboot::versionParsing_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("canonical");
    QTest::newRow("full") << QStringLiteral("1.2.3+4") << true << QStringLiteral("1.2.3+4");
    QTest::newRow("major only") << QStringLiteral("7") << true << QStringLiteral("7.0.0+0");
    QTest::newRow("no build") << QStringLiteral("0.0.2") << true << QStringLiteral("0.0.2+0");
    QTest::newRow("limits") << QStringLiteral("255.255.65535+4294967295") << true
                            << QStringLiteral("255.255.65535+4294967295");
    QTest::newRow("major 256") << QStringLiteral("256.0.0") << false << QString();
    QTest::newRow("revision 65536") << QStringLiteral("1.0.65536") << false << QString();
    QTest::newRow("build overflow") << QStringLiteral("1.0.0+4294967296") << false << QString();
    QTest::newRow("leading zero") << QStringLiteral("01.2") << false << QString();
    QTest::newRow("build without revision") << QStringLiteral("1.2+3") << false << QString();
    QTest::newRow("semver suffix") << QStringLiteral("1.2.3-rc1") << false << QString();
    QTest::newRow("empty") << QString() << false << QString();
}

void TestMcuboot::versionParsing() {
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(QString, canonical);
    const auto version = ImageVersion::parse(text);
    QCOMPARE(version.has_value(), valid);
    if (valid) {
        QCOMPARE(version->toString(), canonical);
    } else {
        QCOMPARE(version.error().code, QStringLiteral("mcuboot.bad-version"));
    }
}

void TestMcuboot::commandLineWithTokenSigner() {
    const QString ctl = QStringLiteral(OTAFLEET_BIN_DIR "/otafleetctl");
    if (!QFile::exists(ctl)) {
        QSKIP("otafleetctl is not built");
    }
    const QString in = path(QStringLiteral("cli-fw.bin"));
    const QString out = path(QStringLiteral("cli-signed.bin"));
    const QString pub = path(QStringLiteral("cli-pub.pem"));
    QVERIFY(writeAll(in, m_firmware));
    QVERIFY(writeAll(pub, m_tokenPublic));
    const auto run = [&](const QStringList& args) {
        QProcess p;
        p.start(ctl, args);
        if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit) {
            return -1;
        }
        if (p.exitCode() != 0) {
            qInfo().noquote() << QString::fromLocal8Bit(p.readAllStandardError());
        }
        return p.exitCode();
    };
    QCOMPARE(run({QStringLiteral("mcuboot"), QStringLiteral("sign"), QStringLiteral("--pki"),
                  m_token->pkiDir, QStringLiteral("--signer"), QStringLiteral("release"),
                  QStringLiteral("--pin-env"), QString::fromLatin1(TestPki::kPinEnv),
                  QStringLiteral("--version"), QStringLiteral("2.0.1+7"),
                  QStringLiteral("--header-size"), QStringLiteral("0x200"),
                  QStringLiteral("--slot-size"), QStringLiteral("0x20000"),
                  QStringLiteral("--pad-header"), in, QStringLiteral("-o"), out}),
             0);
    QCOMPARE(run({QStringLiteral("mcuboot"), QStringLiteral("verify"), QStringLiteral("--key"), pub,
                  out}),
             0);
    const auto info = verifyImage(readAll(out), m_tokenPublic);
    QVERIFY2(info.has_value(), qPrintable(errorOf(info)));
    QCOMPARE(info->version.toString(), QStringLiteral("2.0.1+7"));
    // The same token key addressed directly by its pkcs11: URI, with a linked-in header area.
    QVERIFY(m_token->pki.releaseKeyReference().startsWith(QStringLiteral("pkcs11:")));
    QVERIFY(writeAll(in, QByteArray(kHdr, '\0') + m_firmware));
    QCOMPARE(run({QStringLiteral("mcuboot"), QStringLiteral("sign"), QStringLiteral("--key"),
                  m_token->pki.releaseKeyReference(), QStringLiteral("--pin-env"),
                  QString::fromLatin1(TestPki::kPinEnv), QStringLiteral("--version"),
                  QStringLiteral("2.0.2"), QStringLiteral("--header-size"), QStringLiteral("512"),
                  QStringLiteral("--slot-size"), QStringLiteral("131072"),
                  QStringLiteral("--align"), QStringLiteral("8"), in, QStringLiteral("-o"), out}),
             0);
    QCOMPARE(run({QStringLiteral("mcuboot"), QStringLiteral("verify"), QStringLiteral("--key"), pub,
                  out}),
             0);
    // Failures are exit code 1, a wrong command line 2.
    QVERIFY(writeAll(pub, m_otherPublic));
    QCOMPARE(run({QStringLiteral("mcuboot"), QStringLiteral("verify"), QStringLiteral("--key"), pub,
                  out}),
             1);
    QCOMPARE(
        run({QStringLiteral("mcuboot"), QStringLiteral("sign"), QStringLiteral("--key"), pub, in}),
        2);
}

// The fuzz seeds are real images: two signed ones, one with a protected TLV area (security
// counter) whose hash covers that area, and one read back from a whole slot with erased flash.
void TestMcuboot::committedFuzzSeedsParse() {
    const QString corpus = QStringLiteral(OTAFLEET_SOURCE_DIR "/tests/fuzz/corpus/mcuboot_tlv/");
    const QByteArray protectedImage = readAll(corpus + QStringLiteral("protected-hash-only.bin"));
    const auto info = parseImage(protectedImage);
    QVERIFY2(info.has_value(), qPrintable(errorOf(info)));
    QCOMPARE(info->protectedTlvSize, 12U);
    QCOMPARE(info->hashedSize, qsizetype(32 + 40 + 12));
    QCOMPARE(info->sha256, crypto::Sha256::hash(protectedImage.left(info->hashedSize)));
    for (const char* name : {"signed-pad-header.bin", "signed-align8.bin", "slot-readback.bin"}) {
        const auto seed = parseImage(readAll(corpus + QLatin1String(name)));
        QVERIFY2(seed.has_value(), name);
        QCOMPARE(seed->signature.isEmpty(), false);
    }
}

QTEST_GUILESS_MAIN(TestMcuboot)
#include "tst_mcuboot.moc"
