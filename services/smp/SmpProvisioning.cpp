#include "smp/SmpProvisioning.h"

#include "smp/SmpError.h"

#include <QCborArray>
#include <QCborValue>

#include <algorithm>

namespace otafleet::smp::provision {
namespace {

Error badResponse(const QString& what) {
    return Error{QStringLiteral("smp.bad-response"),
                 QStringLiteral("The device's provisioning answer is not what otafleet's SMP "
                                "group %1 specifies (%2); check the firmware against the README.")
                     .arg(kGroup)
                     .arg(what)};
}

}  // namespace

QString rcName(int rc) {
    switch (ProvisionRc(rc)) {
        case ProvisionRc::Ok:
            return QStringLiteral("ok");
        case ProvisionRc::Unknown:
            return QStringLiteral("unknown");
        case ProvisionRc::NoKey:
            return QStringLiteral("no-key");
        case ProvisionRc::KeyMismatch:
            return QStringLiteral("key-mismatch");
        case ProvisionRc::BadCertificate:
            return QStringLiteral("bad-certificate");
        case ProvisionRc::TooLarge:
            return QStringLiteral("too-large");
        case ProvisionRc::KeyFailed:
            return QStringLiteral("key-failed");
        case ProvisionRc::StoreFailed:
            return QStringLiteral("store-failed");
    }
    return QStringLiteral("rc-%1").arg(rc);
}

Request identityRead() {
    return Request{Op::Read, kGroup, kIdentity, {}};
}

Request csrRead() {
    return Request{Op::Read, kGroup, kCsr, {}};
}

Request certWrite(const QList<QByteArray>& chainDer) {
    QCborArray chain;
    for (const QByteArray& der : chainDer) {
        chain.append(der);
    }
    return Request{Op::Write, kGroup, kCert, QCborMap{{QStringLiteral("chain"), chain}}};
}

Request imageFormatRead() {
    return Request{Op::Read, kGroup, kImageFormat, {}};
}

QString imageFormatName(ImageFormat format) {
    return format == ImageFormat::Bundle ? QStringLiteral("otab") : QStringLiteral("mcuboot");
}

Result<Identity> parseIdentity(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const QCborValue sn = body.value(QStringLiteral("sn"));
    const QString text = sn.toString();
    const bool printable = std::all_of(text.cbegin(), text.cend(), [](QChar c) {
        return c.isPrint() && c.category() != QChar::Separator_Line &&
               c.category() != QChar::Separator_Paragraph;
    });
    if (!sn.isString() || text.isEmpty() || text.size() > kMaxSerialNumber || !printable) {
        return fail(
            badResponse(QStringLiteral("\"sn\" must be a printable text of 1 to %1 characters")
                            .arg(kMaxSerialNumber)));
    }
    Identity identity;
    identity.serialNumber = sn.toString();
    identity.hasKey = body.value(QStringLiteral("key")).toBool(false);
    identity.hasCertificate = body.value(QStringLiteral("cert")).toBool(false);
    return identity;
}

Result<QByteArray> parseCsr(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const QCborValue csr = body.value(QStringLiteral("csr"));
    if (!csr.isByteArray() || csr.toByteArray().isEmpty() || csr.toByteArray().size() > kMaxCsr) {
        return fail(badResponse(
            QStringLiteral("\"csr\" must be a byte string of 1 to %1 bytes").arg(kMaxCsr)));
    }
    return csr.toByteArray();
}

Status parseCertWrite(const QCborMap& body) {
    return checkResponse(body);
}

Result<ImageFormat> parseImageFormat(const QCborMap& body) {
    if (const Status status = checkResponse(body); !status) {
        return fail(status.error());
    }
    const QString format = body.value(QStringLiteral("format")).toString();
    for (const ImageFormat known : {ImageFormat::Mcuboot, ImageFormat::Bundle}) {
        if (format == imageFormatName(known)) {
            return known;
        }
    }
    return fail(badResponse(QStringLiteral("\"format\" must be \"mcuboot\" or \"otab\"")));
}

}  // namespace otafleet::smp::provision
