#include "crypto/Pkcs11Uri.h"

#include <QList>
#include <QStringList>

namespace otafleet::crypto {

namespace {

const QLatin1String kScheme("pkcs11:");

Error invalid(const QString& uri, const QString& why) {
    return Error{QStringLiteral("crypto.key-reference-invalid"),
                 QStringLiteral("The key reference \"%1\" is not a valid pkcs11: URI (%2). "
                                "Write it like pkcs11:token=LABEL;object=KEY.")
                     .arg(uri.left(200), why)};
}

Error pinInUri() {
    return Error{QStringLiteral("crypto.pin-in-uri"),
                 QStringLiteral("The key reference carries a PIN (pin-value or pin-source). PINs "
                                "are never taken from URIs; remove it and give the PIN at the "
                                "prompt or through --pin-env.")};
}

QString encodeText(const QString& value) {
    return QString::fromLatin1(value.toUtf8().toPercentEncoding("-._~"));
}

QString encodeBytes(const QByteArray& value) {
    QString result;
    for (const char byte : value) {
        result += QStringLiteral("%%1").arg(static_cast<unsigned char>(byte), 2, 16, QChar(u'0'));
    }
    return result;
}

}  // namespace

bool Pkcs11Uri::looksLikeUri(const QString& reference) {
    return reference.startsWith(kScheme, Qt::CaseInsensitive);
}

Result<Pkcs11Uri> Pkcs11Uri::parse(const QString& uri) {
    if (uri.size() > kMaxLength) {
        return fail(
            invalid(uri.left(16), QStringLiteral("longer than %1 characters").arg(kMaxLength)));
    }
    if (!looksLikeUri(uri)) {
        return fail(invalid(uri.left(16), QStringLiteral("it does not start with pkcs11:")));
    }
    const QString rest = uri.mid(kScheme.size());
    const qsizetype queryStart = rest.indexOf(u'?');
    struct Attribute {
        QString name;
        QString value;  // still percent-encoded
        bool inQuery;
    };
    QList<Attribute> attributes;
    const auto collect = [&](const QString& part, QChar separator, bool inQuery) {
        for (const QString& attribute : part.split(separator, Qt::SkipEmptyParts)) {
            const qsizetype equals = attribute.indexOf(u'=');
            attributes.append({equals < 0 ? attribute : attribute.left(equals).toLower(),
                               equals < 0 ? QString() : attribute.mid(equals + 1), inQuery});
            if (equals <= 0) {
                attributes.last().name.clear();  // malformed, reported below
            }
        }
    };
    collect(queryStart < 0 ? rest : rest.left(queryStart), u';', false);
    collect(queryStart < 0 ? QString() : rest.mid(queryStart + 1), u'&', true);
    // Checked before anything else so that no error message below can echo a PIN back.
    for (const Attribute& attribute : attributes) {
        if (attribute.name == u"pin-value" || attribute.name == u"pin-source") {
            return fail(pinInUri());
        }
    }

    Pkcs11Uri result;
    for (const Attribute& attribute : attributes) {
        if (attribute.name.isEmpty()) {
            return fail(invalid(uri, QStringLiteral("an attribute is not NAME=VALUE")));
        }
        const QByteArray value = QByteArray::fromPercentEncoding(attribute.value.toUtf8());
        if (!attribute.inQuery && attribute.name == u"token") {
            result.token = QString::fromUtf8(value);
        } else if (!attribute.inQuery && attribute.name == u"object") {
            result.object = QString::fromUtf8(value);
        } else if (!attribute.inQuery && attribute.name == u"id") {
            result.id = value;
        } else if (!attribute.inQuery && attribute.name == u"type") {
            result.type = QString::fromUtf8(value);
        } else if (attribute.inQuery && attribute.name == u"module-path") {
            result.modulePath = QString::fromUtf8(value);
        }
        // Other standard attributes (serial, manufacturer, slot-id, ...) narrow a search
        // otafleet does not need; they are accepted and ignored as RFC 7512 allows.
    }
    if (result.object.isEmpty() && result.id.isEmpty()) {
        return fail(invalid(uri, QStringLiteral("it names neither object= nor id=")));
    }
    return result;
}

QString Pkcs11Uri::toString() const {
    QStringList path;
    if (!token.isEmpty()) {
        path.append(QStringLiteral("token=") + encodeText(token));
    }
    if (!object.isEmpty()) {
        path.append(QStringLiteral("object=") + encodeText(object));
    }
    if (!id.isEmpty()) {
        path.append(QStringLiteral("id=") + encodeBytes(id));
    }
    if (!type.isEmpty()) {
        path.append(QStringLiteral("type=") + encodeText(type));
    }
    QString result = kScheme + path.join(u';');
    if (!modulePath.isEmpty()) {
        result += QStringLiteral("?module-path=") +
                  QString::fromLatin1(modulePath.toUtf8().toPercentEncoding("-._~/"));
    }
    return result;
}

}  // namespace otafleet::crypto
