#include "fleet/BundleReport.h"

namespace otafleet::fleet {

quint64 BundleReport::totalSize() const {
    quint64 total = 0;
    for (const BundlePayloadInfo& p : payloads)
        total += p.size;
    return total;
}

QString BundleReport::verdictSentence() const {
    if (verdict != Verdict::Verified)
        return error ? error->toString() : QStringLiteral("The bundle was not checked.");
    QStringList names;
    for (const BundleSignerInfo& s : signers)
        names.append(s.commonName.isEmpty() ? s.subject : s.commonName);
    const QString by =
        names.isEmpty() ? QStringLiteral("a trusted signer") : names.join(QStringLiteral(" and "));
    return checkedHardware.isEmpty() ? QStringLiteral("Signed by %1 — verified.").arg(by)
                                     : QStringLiteral("Signed by %1 — verified for hardware %2.")
                                           .arg(by, checkedHardware);
}

}  // namespace otafleet::fleet
