#include "station/DeviceCertifier.h"

#include "crypto/Certificate.h"
#include "enroll/EnrollRequestCheck.h"

namespace otafleet::station {

DeviceCertifier::~DeviceCertifier() {
    m_pin.fill('\0');
}

Result<DeviceCertifier> DeviceCertifier::open(const QString& pkiDirectory,
                                              const crypto::PinProvider& pin) {
    auto pki = crypto::Pki::open(pkiDirectory);
    if (!pki) {
        return fail(pki.error());
    }
    DeviceCertifier certifier;
    if (pki->keysInToken()) {
        auto secret = pin();
        if (!secret) {
            return fail(secret.error());
        }
        certifier.m_pin = QByteArray(secret->c_str(), secret->size());
    }
    certifier.m_pki = std::move(*pki);
    return certifier;
}

Result<IssuedIdentity> DeviceCertifier::certify(const QString& serialNumber,
                                                const QByteArray& csrDer) const {
    // A unit on the station's own line is authorised by being there: the enrolment token that
    // guards the network path has no counterpart, so a fixed one passes that check.
    const enroll::EnrollFields fields{
        csrDer, serialNumber.toUtf8(), {}, {}, QByteArrayLiteral("factory-station")};
    const auto checked = enroll::checkEnrollRequest(fields);
    if (!checked) {
        return fail(checked.error());
    }
    auto entries = m_pki->issued();
    if (!entries) {
        return fail(entries.error());
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QString subject = QStringLiteral("CN=%1").arg(serialNumber);
    QStringList names;
    std::optional<crypto::IssuedCertificate> entry;
    bool reused = false;
    for (const crypto::IssuedCertificate& e : *entries) {
        names << e.name;
        if (entry || e.kind != crypto::IssueKind::Device || e.subject != subject ||
            e.state(now) != u"valid") {
            continue;
        }
        const auto held = m_pki->publicKeyPem(e.name);
        if (!held || *held != checked->publicKeyPem) {
            return fail(QStringLiteral("station.already-enrolled"),
                        QStringLiteral("The unit %1 already has a valid certificate (serial %2, "
                                       "entry %3) for another key. If the unit lost its key, "
                                       "revoke the old certificate first: otafleetctl pki revoke "
                                       "--pki PKI --name %3.")
                            .arg(serialNumber, e.serial, e.name));
        }
        entry = e;
        reused = true;
    }
    if (!entry) {
        QString name = serialNumber;
        for (int n = 2; names.contains(name); ++n) {
            name = QStringLiteral("%1.%2").arg(serialNumber).arg(n);
        }
        crypto::IssueOptions options;
        options.kind = crypto::IssueKind::Device;
        options.name = name;
        options.csr = csrDer;
        options.pinProvider = [this]() -> Result<crypto::SecretString> {
            if (m_pin.isEmpty()) {
                return fail(QStringLiteral("crypto.pin-missing"),
                            QStringLiteral("The PKI's keys are on a token; pass --pin-env VAR."));
            }
            return crypto::SecretString(m_pin);
        };
        auto issued = m_pki->issue(options, serialNumber);
        if (!issued) {
            return fail(issued.error());
        }
        entry = std::move(*issued);
    }
    const auto chain = crypto::Certificate::loadPemFile(entry->certificatePath);
    if (!chain || chain->isEmpty()) {
        return fail(chain ? Error{QStringLiteral("pki.invalid"),
                                  QStringLiteral("The PKI entry %1 holds no certificate; check "
                                                 "%2.")
                                      .arg(entry->name, entry->certificatePath)}
                          : chain.error());
    }
    IssuedIdentity identity;
    identity.pkiEntry = entry->name;
    identity.reused = reused;
    identity.fingerprint = chain->first().sha256Fingerprint();
    for (const crypto::Certificate& certificate : *chain) {
        if (certificate.subject() == certificate.issuer() && !identity.chainDer.isEmpty()) {
            continue;  // the root: the unit's verifiers hold it already
        }
        identity.chainDer.append(certificate.toDer());
    }
    return identity;
}

}  // namespace otafleet::station
