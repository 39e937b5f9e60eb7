// Semantic Versioning 2.0.0 versions: parsing (bounded), comparison and printing. Used for
// firmware versions in manifests and for the agent's minimum-version checks.
#pragma once

#include "common/Error.h"

#include <QList>
#include <QString>

#include <compare>
#include <cstdint>

namespace otafleet {

class SemVer {
public:
    static constexpr qsizetype kMaxLength = 256;

    SemVer() = default;
    SemVer(std::uint64_t major, std::uint64_t minor, std::uint64_t patch);

    // Error code "version.invalid" for anything that is not SemVer 2.0.0.
    [[nodiscard]] static Result<SemVer> parse(QStringView text);

    [[nodiscard]] std::uint64_t major() const { return m_major; }
    [[nodiscard]] std::uint64_t minor() const { return m_minor; }
    [[nodiscard]] std::uint64_t patch() const { return m_patch; }
    [[nodiscard]] QString toString() const;

    // Precedence as in SemVer 2.0.0 section 11; build metadata is ignored.
    friend std::strong_ordering operator<=>(const SemVer& a, const SemVer& b);
    friend bool operator==(const SemVer& a, const SemVer& b) { return (a <=> b) == 0; }

private:
    std::uint64_t m_major = 0;
    std::uint64_t m_minor = 0;
    std::uint64_t m_patch = 0;
    QStringList m_preRelease;
    QString m_build;
};

}  // namespace otafleet
