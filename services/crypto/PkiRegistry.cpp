#include "crypto/PkiRegistry.h"

#include "common/AtomicFile.h"
#include "crypto/Pkcs11Uri.h"
#include "crypto/PkiLayout.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <memory>

namespace otafleet::crypto {

namespace {

struct KindName {
    IssueKind kind;
    QLatin1String name;
};
const KindName kKinds[] = {{IssueKind::ReleaseSigner, QLatin1String("release-signer")},
                           {IssueKind::Server, QLatin1String("server")},
                           {IssueKind::Operator, QLatin1String("operator")},
                           {IssueKind::Device, QLatin1String("device")}};

struct ReasonName {
    RevocationReason reason;
    QLatin1String name;
};
const ReasonName kReasons[] = {
    {RevocationReason::KeyCompromise, QLatin1String("keyCompromise")},
    {RevocationReason::Superseded, QLatin1String("superseded")},
    {RevocationReason::CessationOfOperation, QLatin1String("cessationOfOperation")}};

Error invalid(const QString& directory, const QString& why) {
    return Error{QStringLiteral("pki.invalid"),
                 QStringLiteral("%1 does not hold a usable PKI (%2). Run otafleetctl pki init "
                                "or point --pki at the directory it wrote.")
                     .arg(directory, why)};
}

// The init-made leaves as entries, for a pki.json whose "issued" list does not name them.
Result<IssuedCertificate> builtin(const QString& directory, const QString& name, IssueKind kind,
                                  const QString& certFile, const QString& keyRef) {
    const QString path = QDir(directory).absoluteFilePath(certFile);
    auto chain = Certificate::loadPemFile(path);
    if (!chain) {
        return fail(invalid(directory, chain.error().message));
    }
    const Certificate& leaf = chain->constFirst();
    IssuedCertificate entry;
    entry.name = name;
    entry.kind = kind;
    entry.serial = leaf.serialHex();
    entry.subject = leaf.subject();
    entry.notAfter = leaf.notAfter();
    entry.keyReference = registry::resolve(directory, keyRef);
    entry.certificatePath = path;
    return entry;
}

}  // namespace

QString issueKindName(IssueKind kind) {
    for (const KindName& entry : kKinds) {
        if (entry.kind == kind) {
            return entry.name;
        }
    }
    return {};
}

std::optional<IssueKind> parseIssueKind(const QString& text) {
    for (const KindName& entry : kKinds) {
        if (text == entry.name) {
            return entry.kind;
        }
    }
    return std::nullopt;
}

QString revocationReasonName(RevocationReason reason) {
    for (const ReasonName& entry : kReasons) {
        if (entry.reason == reason) {
            return entry.name;
        }
    }
    return {};
}

std::optional<RevocationReason> parseRevocationReason(const QString& text) {
    for (const ReasonName& entry : kReasons) {
        if (text == entry.name) {
            return entry.reason;
        }
    }
    return std::nullopt;
}

bool IssuedCertificate::keyInToken() const {
    return Pkcs11Uri::looksLikeUri(keyReference);
}

QString IssuedCertificate::state(const QDateTime& now) const {
    if (revoked) {
        return QStringLiteral("revoked");
    }
    return notAfter.isValid() && notAfter < now ? QStringLiteral("expired")
                                                : QStringLiteral("valid");
}

namespace registry {

Result<QJsonObject> read(const QString& directory) {
    const QString path = QDir(directory).absoluteFilePath(layout::kPkiJson);
    if (!QFileInfo::exists(path)) {
        return fail(QStringLiteral("pki.not-found"),
                    QStringLiteral("No PKI in %1 (no pki.json). Run otafleetctl pki init first or "
                                   "check --pki.")
                        .arg(directory));
    }
    auto content = readFileBounded(path, layout::kMaxPkiJsonSize);
    if (!content) {
        return fail(invalid(directory, content.error().message));
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(*content, &parseError);
    if (!document.isObject()) {
        return fail(
            invalid(directory, QStringLiteral("pki.json: %1").arg(parseError.errorString())));
    }
    return document.object();
}

Result<std::unique_ptr<QLockFile>> lock(const QString& directory) {
    constexpr int kLockWaitMs = 10000;
    auto file = std::make_unique<QLockFile>(
        QDir(directory).absoluteFilePath(QStringLiteral("pki.json.lock")));
    if (!file->tryLock(kLockWaitMs)) {
        return fail(QStringLiteral("pki.busy"),
                    QStringLiteral("Another otafleetctl is changing the PKI in %1 (lock file "
                                   "pki.json.lock). Wait for it to finish and try again.")
                        .arg(directory));
    }
    return file;
}

Status write(const QString& directory, const QJsonObject& json) {
    return writeFileAtomically(QDir(directory).absoluteFilePath(layout::kPkiJson),
                               QJsonDocument(json).toJson(), 0644);
}

Result<QList<IssuedCertificate>> entries(const QString& directory, const QJsonObject& json) {
    QList<IssuedCertificate> list;
    bool haveRelease = false;
    bool haveOperator = false;
    for (const QJsonValue& value : json.value(layout::kJsonIssued).toArray()) {
        const QJsonObject object = value.toObject();
        IssuedCertificate entry;
        entry.name = object.value(QLatin1String("name")).toString();
        const auto kind = parseIssueKind(object.value(QLatin1String("kind")).toString());
        if (entry.name.isEmpty() || !kind) {
            return fail(invalid(directory, QStringLiteral("an \"issued\" entry of pki.json has "
                                                          "no name or an unknown kind")));
        }
        entry.kind = *kind;
        entry.serial = object.value(QLatin1String("serial")).toString();
        entry.subject = object.value(QLatin1String("subject")).toString();
        entry.notAfter =
            QDateTime::fromString(object.value(QLatin1String("not_after")).toString(), Qt::ISODate);
        entry.keyReference = resolve(directory, object.value(QLatin1String("key")).toString());
        entry.certificatePath =
            resolve(directory, object.value(QLatin1String("certificate")).toString());
        entry.revoked = object.value(QLatin1String("revoked")).toBool();
        entry.revokedAt = QDateTime::fromString(
            object.value(QLatin1String("revoked_at")).toString(), Qt::ISODate);
        entry.revocationReason = object.value(QLatin1String("reason")).toString();
        haveRelease = haveRelease || entry.name == layout::kReleaseKey;
        haveOperator = haveOperator || entry.name == QLatin1String("operator");
        list.append(entry);
    }
    const QJsonObject keys = json.value(layout::kJsonKeys).toObject();
    if (!haveOperator) {
        auto entry =
            builtin(directory, QStringLiteral("operator"), IssueKind::Operator,
                    layout::kOperatorCert, json.value(layout::kJsonOperatorKey).toString());
        if (!entry) {
            return fail(entry.error());
        }
        list.prepend(*entry);
    }
    if (!haveRelease) {
        auto entry = builtin(directory, layout::kReleaseKey, IssueKind::ReleaseSigner,
                             layout::kReleaseCert, keys.value(layout::kReleaseKey).toString());
        if (!entry) {
            return fail(entry.error());
        }
        list.prepend(*entry);
    }
    return list;
}

Result<Change> beginChange(const QString& directory) {
    auto locked = lock(directory);
    if (!locked)
        return fail(locked.error());
    auto json = read(directory);
    if (!json)
        return fail(json.error());
    auto list = entries(directory, *json);
    if (!list)
        return fail(list.error());
    return Change{std::move(*locked), std::move(*json), std::move(*list)};
}

Status Change::commit(const QString& directory) {
    store(directory, json, list);
    return write(directory, json);
}

void store(const QString& directory, QJsonObject& json, const QList<IssuedCertificate>& list) {
    QJsonArray array;
    for (const IssuedCertificate& entry : list) {
        QJsonObject object{
            {QStringLiteral("name"), entry.name},
            {QStringLiteral("kind"), issueKindName(entry.kind)},
            {QStringLiteral("serial"), entry.serial},
            {QStringLiteral("subject"), entry.subject},
            {QStringLiteral("not_after"), entry.notAfter.toString(Qt::ISODate)},
            {QStringLiteral("key"), relativize(directory, entry.keyReference)},
            {QStringLiteral("certificate"), relativize(directory, entry.certificatePath)},
            {QStringLiteral("revoked"), entry.revoked}};
        if (entry.revoked) {
            object.insert(QStringLiteral("revoked_at"), entry.revokedAt.toString(Qt::ISODate));
            object.insert(QStringLiteral("reason"), entry.revocationReason);
        }
        array.append(object);
    }
    json.insert(layout::kJsonIssued, array);
}

QString caKeyName(IssueKind kind) {
    switch (kind) {
        case IssueKind::ReleaseSigner:
            return layout::kReleaseCaKey;
        case IssueKind::Server:
            return layout::kServerCaKey;
        case IssueKind::Operator:
            return layout::kOperatorCaKey;
        case IssueKind::Device:
            return layout::kDeviceCaKey;
    }
    return {};
}

QString resolve(const QString& directory, const QString& reference) {
    if (reference.isEmpty() || Pkcs11Uri::looksLikeUri(reference)) {
        return reference;
    }
    return QDir::cleanPath(QDir(directory).absoluteFilePath(reference));
}

QString relativize(const QString& directory, const QString& reference) {
    if (reference.isEmpty() || Pkcs11Uri::looksLikeUri(reference)) {
        return reference;
    }
    return QDir(directory).relativeFilePath(reference);
}

PinProvider askOnce(PinProvider provider) {
    auto cached = std::make_shared<std::optional<SecretString>>();
    return [provider = std::move(provider), cached]() -> Result<SecretString> {
        if (!cached->has_value()) {
            if (!provider) {
                return fail(QStringLiteral("crypto.pin-missing"),
                            QStringLiteral("The token's user PIN is needed. Pass it with "
                                           "--pin-env."));
            }
            auto pin = provider();
            if (!pin) {
                return fail(pin.error());
            }
            cached->emplace(std::move(*pin));
        }
        const SecretString& pin = **cached;
        return SecretString(QByteArray(pin.c_str(), pin.size()));
    };
}

}  // namespace registry
}  // namespace otafleet::crypto
