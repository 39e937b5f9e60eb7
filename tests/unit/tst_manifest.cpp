// Manifest::parse is the first code to read a bundle from outside: every malformed shape must be
// refused with its own code and a sentence naming the field, and valid manifests must round-trip.

#include "bundle/Manifest.h"

#include <QTest>

using otafleet::SemVer;
using otafleet::bundle::Encoding;
using otafleet::bundle::Manifest;
using otafleet::bundle::PayloadEntry;

namespace {

const QByteArray kHashA =
    QByteArrayLiteral("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
const QByteArray kHashB =
    QByteArrayLiteral("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae");

// A valid manifest in canonical form (sorted keys, compact), which serialize() reproduces.
QByteArray validManifest() {
    return QByteArrayLiteral(
               R"({"created":"2026-11-21T13:00:00Z","format_version":1,"hardware":["rev-a"],)"
               R"("min_agent_version":"0.1.0","payloads":[{"encoding":"raw","name":"rootfs",)"
               R"("sha256":"HASHA","size":4,"slot_class":"rootfs"}],"product":"otafleet-firmware",)"
               R"("release_notes":"","security_version":3,"version":"1.4.2"})")
        .replace("HASHA", kHashA);
}

QByteArray with(const char* from, const QByteArray& to) {
    QByteArray m = validManifest();
    Q_ASSERT(m.contains(from));
    return m.replace(from, to);
}

// The root object plus (depth - 1) nested lists in release_notes.
QByteArray nested(int depth) {
    return with(R"("release_notes":"")", QByteArray(R"("release_notes":)") +
                                             QByteArray(depth - 1, '[') + "0" +
                                             QByteArray(depth - 1, ']'));
}

}  // namespace

class TestManifest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void canonicalFormRoundTrips();
    void builtManifestRoundTrips();
};

void TestManifest::parse_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("code");      // empty: valid
    QTest::addColumn<QString>("mentions");  // a word the message must contain

    const QString malformed = QStringLiteral("bundle.manifest-malformed");
    const auto row = [](const char* name, const QByteArray& json, const QString& code,
                        const char* mentions = "") {
        QTest::newRow(name) << json << code << QString::fromLatin1(mentions);
    };

    row("valid", validManifest(), QString());
    row("valid: expires, prerelease, two hardware",
        with(R"("hardware":["rev-a"])",
             R"("expires":"2027-01-01T00:00:00Z","hardware":["rev-a","rev-b"])")
            .replace(R"("version":"1.4.2")", R"("version":"2.0.0-rc.1+b7")"),
        QString());
    row("valid: zstd-patch payload",
        with(R"("encoding":"raw")", QByteArray(R"("base_sha256":")") + kHashB +
                                        R"(","encoding":"zstd-patch","target_size":9,)"
                                        R"("target_sha256":")" +
                                        kHashB + '"'),
        QString());
    row("valid: 2^53 is the largest integer",
        with(R"("security_version":3)", R"("security_version":9007199254740992)"), QString());

    // Depth 8 passes the depth bound and is then refused for its type, not its depth.
    row("depth 8 is within the bound", nested(8), malformed, "release_notes");
    row("nesting deeper than 8", nested(9), malformed, "deeper");
    row("nesting 10000 deep", nested(10000), malformed, "deeper");
    row("integer above 2^53",
        with(R"("security_version":3)", R"("security_version":9007199254740993)"), malformed,
        "security_version");
    row("huge integer", with(R"("size":4)", R"("size":123456789012345678901234567890)"), malformed,
        "size");
    row("float", with(R"("security_version":3)", R"("security_version":1.5)"), malformed,
        "security_version");
    row("float with zero fraction", with(R"("size":4)", R"("size":4.0)"), malformed, "size");
    row("exponent", with(R"("size":4)", R"("size":4e0)"), malformed, "size");
    row("negative", with(R"("security_version":3)", R"("security_version":-1)"), malformed,
        "security_version");
    row("leading zero", with(R"("size":4)", R"("size":04)"), malformed, "size");
    row("number as text", with(R"("size":4)", R"("size":"4")"), malformed, "size");
    row("oversize",
        with(R"("release_notes":"")",
             QByteArray(R"("release_notes":")") + QByteArray(Manifest::kMaxSize, 'x') + '"'),
        QStringLiteral("bundle.manifest-too-large"), "bytes");
    row("release notes too long",
        with(R"("release_notes":"")",
             QByteArray(R"("release_notes":")") + QByteArray(70000, 'x') + '"'),
        malformed, "release_notes");
    row("missing product", with(R"("product":"otafleet-firmware",)", ""), malformed, "product");
    row("missing payloads",
        with(R"("payloads":[{"encoding":"raw","name":"rootfs",)",
             R"("x":[{"encoding":"raw","name":"rootfs",)"),
        malformed, "x");
    row("missing created", with(R"("created":"2026-11-21T13:00:00Z",)", ""), malformed, "created");
    row("missing sha256", with(QByteArray(R"("sha256":")" + kHashA + R"(",)").constData(), ""),
        malformed, "sha256");
    row("empty hardware", with(R"(["rev-a"])", "[]"), malformed, "hardware");
    row("hardware not text", with(R"(["rev-a"])", "[7]"), malformed, "hardware");
    row("empty payload list",
        with(QByteArray(R"([{"encoding":"raw","name":"rootfs","sha256":")" + kHashA +
                        R"(","size":4,"slot_class":"rootfs"}])")
                 .constData(),
             "[]"),
        malformed, "payloads");
    row("unknown top-level key", with(R"("product":)", R"("debug":true,"product":)"), malformed,
        "debug");
    row("unknown payload key", with(R"("encoding":"raw",)", R"("encoding":"raw","mode":1,)"),
        malformed, "mode");
    row("duplicate key",
        with(R"("security_version":3)", R"("security_version":3,"security_version":0)"), malformed,
        "twice");
    row("hex 63 digits", with(kHashA.constData(), kHashA.left(63)), malformed, "sha256");
    row("hex uppercase", with(kHashA.constData(), kHashA.toUpper()), malformed, "sha256");
    row("hex not hex", with(kHashA.constData(), QByteArray(64, 'g')), malformed, "sha256");
    row("semver two parts", with(R"("version":"1.4.2")", R"("version":"1.4")"), malformed,
        "version");
    row("semver leading zero", with(R"("version":"1.4.2")", R"("version":"01.4.2")"), malformed,
        "version");
    row("semver agent", with(R"("min_agent_version":"0.1.0")", R"("min_agent_version":"latest")"),
        malformed, "min_agent_version");
    row("timestamp with space", with("2026-11-21T13:00:00Z", "2026-11-21 13:00:00Z"), malformed,
        "created");
    row("timestamp with offset", with("2026-11-21T13:00:00Z", "2026-11-21T13:00:00+01:00"),
        malformed, "created");
    row("timestamp February 30", with("2026-11-21T13:00:00Z", "2026-02-30T13:00:00Z"), malformed,
        "created");
    row("timestamp milliseconds", with("2026-11-21T13:00:00Z", "2026-11-21T13:00:00.000Z"),
        malformed, "created");
    row("format version 2", with(R"("format_version":1)", R"("format_version":2)"),
        QStringLiteral("bundle.unsupported-format"), "Update");
    row("encoding unknown", with(R"("encoding":"raw")", R"("encoding":"gzip")"), malformed,
        "encoding");
    row("raw with target", with(R"("encoding":"raw",)", R"("encoding":"raw","target_size":4,)"),
        malformed, "raw");
    row("zstd-patch without base",
        with(R"("encoding":"raw")", QByteArray(R"("encoding":"zstd-patch","target_size":9,)"
                                               R"("target_sha256":")") +
                                        kHashB + '"'),
        malformed, "base_sha256");
    row("payload name with slash", with(R"("name":"rootfs")", R"("name":"../etc")"), malformed,
        "name");
    row("payload names repeated",
        with(R"("slot_class":"rootfs"}])",
             QByteArray(R"("slot_class":"rootfs"},{"encoding":"raw","name":"rootfs","sha256":")") +
                 kHashA + R"(","size":1,"slot_class":"rootfs"}])"),
        malformed, "rootfs");
    row("not JSON", QByteArrayLiteral("OTAB manifest"), malformed, "JSON");
    row("array at top", QByteArrayLiteral("[1,2]"), malformed, "JSON");
    row("empty", QByteArray(), malformed, "JSON");
    row("unterminated string", QByteArrayLiteral(R"({"product":"abc)"), malformed, "cut short");
    row("invalid UTF-8", with("otafleet-firmware", "otafleet-\xff\xfe"), malformed, "JSON");

    QByteArray many = R"({"created":"2026-11-21T13:00:00Z","format_version":1,"hardware":["h"],)"
                      R"("min_agent_version":"0.1.0","payloads":[)";
    for (int i = 0; i <= Manifest::kMaxPayloads; ++i) {
        many += (i ? "," : "") + QByteArray(R"({"encoding":"raw","name":"p)") +
                QByteArray::number(i) + R"(","sha256":")" + kHashA +
                R"(","size":1,"slot_class":"rootfs"})";
    }
    many += R"(],"product":"p","security_version":0,"version":"1.0.0"})";
    row("65 payloads", many, malformed, "payloads");
}

void TestManifest::parse() {
    QFETCH(QByteArray, json);
    QFETCH(QString, code);
    QFETCH(QString, mentions);

    const auto result = Manifest::parse(json);
    if (code.isEmpty()) {
        QVERIFY2(result.has_value(), qPrintable(result ? QString() : result.error().toString()));
        return;
    }
    QVERIFY2(!result.has_value(), "an invalid manifest was accepted");
    QCOMPARE(result.error().code, code);
    QVERIFY2(result.error().message.contains(mentions),
             qPrintable(result.error().message + QStringLiteral(" lacks ") + mentions));
}

void TestManifest::canonicalFormRoundTrips() {
    const auto parsed = Manifest::parse(validManifest());
    QVERIFY(parsed.has_value());
    QCOMPARE(parsed->serialize(), validManifest());
    QCOMPARE(parsed->securityVersion, 3U);
    QCOMPARE(parsed->version, SemVer(1, 4, 2));
    QCOMPARE(parsed->created, QDateTime(QDate(2026, 11, 21), QTime(13, 0), Qt::UTC));
    QVERIFY(!parsed->expires.has_value());
    QCOMPARE(parsed->payloads.size(), 1);
    QCOMPARE(parsed->payloads.at(0).sha256, QByteArray::fromHex(kHashA));
    QCOMPARE(parsed->payloads.at(0).size, 4U);
    QCOMPARE(parsed->totalPayloadSize(), 4U);
}

void TestManifest::builtManifestRoundTrips() {
    Manifest m;
    m.product = QStringLiteral("gateway \"quoted\" ünïcode");
    m.version = *SemVer::parse(u"3.1.0-beta.2+sha.5114f85");
    m.securityVersion = quint64{1} << 53;
    m.hardware = {QStringLiteral("rev-a"), QStringLiteral("rev-b")};
    m.created = QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5), Qt::UTC);
    m.expires = QDateTime(QDate(2027, 1, 2), QTime(3, 4, 5), Qt::UTC);
    m.minAgentVersion = SemVer(0, 2, 0);
    m.releaseNotes = QStringLiteral("line one\nline two");
    PayloadEntry delta;
    delta.name = QStringLiteral("rootfs.delta");
    delta.slotClass = QStringLiteral("rootfs");
    delta.size = 1234;
    delta.sha256 = QByteArray::fromHex(kHashA);
    delta.encoding = Encoding::ZstdPatch;
    delta.targetSize = 99999;
    delta.targetSha256 = QByteArray::fromHex(kHashB);
    delta.baseSha256 = QByteArray::fromHex(kHashA);
    m.payloads = {delta};

    const QByteArray bytes = m.serialize();
    const auto parsed = Manifest::parse(bytes);
    QVERIFY2(parsed.has_value(), qPrintable(parsed ? QString() : parsed.error().toString()));
    QCOMPARE(parsed->serialize(), bytes);
    QCOMPARE(parsed->product, m.product);
    QCOMPARE(parsed->version, m.version);
    QCOMPARE(parsed->version.toString(), m.version.toString());
    QCOMPARE(parsed->securityVersion, m.securityVersion);
    QCOMPARE(parsed->hardware, m.hardware);
    QCOMPARE(parsed->expires, m.expires);
    QCOMPARE(parsed->releaseNotes, m.releaseNotes);
    const PayloadEntry& e = parsed->payloads.at(0);
    QCOMPARE(e.encoding, Encoding::ZstdPatch);
    QCOMPARE(e.targetSize, delta.targetSize);
    QCOMPARE(e.targetSha256, delta.targetSha256);
    QCOMPARE(e.baseSha256, delta.baseSha256);
}

QTEST_GUILESS_MAIN(TestManifest)
#include "tst_manifest.moc"
