#include "ui/ReportText.h"

#include <QRegularExpression>
#include <QStringList>

namespace otafleet::ui {

namespace {
constexpr qint64 kSoonDays = 30;  // a signer expiring this soon is shown as a warning
}

QString commonNameOf(const QString& subject) {
    static const QRegularExpression cn(QStringLiteral(R"((?:^|,)\s*CN=((?:\\.|[^,])+))"));
    const auto match = cn.match(subject);
    return match.hasMatch() ? match.captured(1) : subject;
}

QString utcText(const QDateTime& when) {
    return when.isValid() ? when.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"))
                          : QStringLiteral("?");
}

QString signerHtml(const fleet::BundleSignerInfo& s) {
    QStringList chain;
    for (const QString& issuer : s.chain)
        chain.append(commonNameOf(issuer).toHtmlEscaped());
    const qint64 days = QDateTime::currentDateTimeUtc().daysTo(s.notAfter);
    const QString expiry =
        days < kSoonDays ? QStringLiteral("<span style='color:#b01c1c'>%1 (in %2 days)</span>")
                               .arg(utcText(s.notAfter))
                               .arg(days)
                         : utcText(s.notAfter);
    const QString name = commonNameOf(s.subject);
    // The full subject only when it says more than the name (organisation, country, ...).
    const QString subject = s.subject == QStringLiteral("CN=") + name
                                ? QString()
                                : s.subject.toHtmlEscaped() + QStringLiteral("<br>");
    return QStringLiteral("<b>%1</b><br>%2key id %3<br>chain: %4<br>valid until %5")
        .arg(name.toHtmlEscaped(), subject, s.keyId.toHtmlEscaped(),
             chain.isEmpty() ? QStringLiteral("—") : chain.join(QStringLiteral(" → ")), expiry);
}

}  // namespace otafleet::ui
