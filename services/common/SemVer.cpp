#include "common/SemVer.h"

#include <QRegularExpression>

#include <algorithm>

namespace otafleet {
namespace {

Error invalid(QStringView text) {
    return Error{QStringLiteral("version.invalid"),
                 QStringLiteral("'%1' is not a semantic version; write it as MAJOR.MINOR.PATCH, "
                                "for example 1.4.2 or 2.0.0-rc.1.")
                     .arg(text.left(64).toString())};
}

bool isNumeric(QStringView s) {
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) { return c.isDigit(); });
}

}  // namespace

SemVer::SemVer(std::uint64_t major, std::uint64_t minor, std::uint64_t patch)
    : m_major(major), m_minor(minor), m_patch(patch) {}

Result<SemVer> SemVer::parse(QStringView text) {
    if (text.size() > kMaxLength) {
        return std::unexpected(invalid(text));
    }
    static const QRegularExpression re(QStringLiteral(
        R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))"
        R"((?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
        R"((?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)"));
    const auto match = re.match(text);
    if (!match.hasMatch()) {
        return std::unexpected(invalid(text));
    }
    SemVer v;
    bool okMajor = false;
    bool okMinor = false;
    bool okPatch = false;
    v.m_major = match.capturedView(1).toULongLong(&okMajor);
    v.m_minor = match.capturedView(2).toULongLong(&okMinor);
    v.m_patch = match.capturedView(3).toULongLong(&okPatch);
    if (!okMajor || !okMinor || !okPatch) {  // overflow of uint64
        return std::unexpected(invalid(text));
    }
    if (match.hasCaptured(4)) {
        v.m_preRelease = match.captured(4).split(QLatin1Char('.'));
    }
    v.m_build = match.captured(5);
    return v;
}

QString SemVer::toString() const {
    QString s = QStringLiteral("%1.%2.%3").arg(m_major).arg(m_minor).arg(m_patch);
    if (!m_preRelease.isEmpty()) {
        s += QLatin1Char('-') + m_preRelease.join(QLatin1Char('.'));
    }
    if (!m_build.isEmpty()) {
        s += QLatin1Char('+') + m_build;
    }
    return s;
}

std::strong_ordering operator<=>(const SemVer& a, const SemVer& b) {
    if (auto c = a.m_major <=> b.m_major; c != 0) {
        return c;
    }
    if (auto c = a.m_minor <=> b.m_minor; c != 0) {
        return c;
    }
    if (auto c = a.m_patch <=> b.m_patch; c != 0) {
        return c;
    }
    // A version without pre-release identifiers has higher precedence than one with them.
    if (a.m_preRelease.isEmpty() || b.m_preRelease.isEmpty()) {
        return a.m_preRelease.isEmpty() <=> b.m_preRelease.isEmpty();
    }
    const auto n = std::min(a.m_preRelease.size(), b.m_preRelease.size());
    for (qsizetype i = 0; i < n; ++i) {
        const QString& x = a.m_preRelease[i];
        const QString& y = b.m_preRelease[i];
        const bool xn = isNumeric(x);
        const bool yn = isNumeric(y);
        if (xn && yn) {
            // Compare by length first so that arbitrarily long numeric identifiers order right.
            if (auto c = x.size() <=> y.size(); c != 0) {
                return c;
            }
        } else if (xn != yn) {
            return xn ? std::strong_ordering::less : std::strong_ordering::greater;
        }
        if (const int c = x.compare(y); c != 0) {
            return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
        }
    }
    return a.m_preRelease.size() <=> b.m_preRelease.size();
}

}  // namespace otafleet
