// A single pass over raw JSON text before QJsonDocument sees it. QJsonDocument has no nesting
// limit we control, keeps the last of duplicate keys (an ambiguity an attacker could sign around)
// and reads every number as a double (1.0, 1e3 and 2^64 all "work"). The scan bounds the depth,
// counts object keys so duplicates can be detected after parsing, and accepts only plain
// non-negative integers up to 2^53 as numbers, naming the key that held a bad one.
#pragma once

#include "common/Error.h"

#include <QByteArrayView>

namespace otafleet::bundle::detail {

inline constexpr quint64 kMaxJsonInteger = quint64{1} << 53;

struct JsonScanResult {
    qsizetype keyCount = 0;  // every "key": in every object
};

// Error code `errorCode` with a sentence naming what was wrong and where.
[[nodiscard]] Result<JsonScanResult> scanJson(QByteArrayView json, int maxDepth,
                                              const QString& errorCode, const QString& what);

}  // namespace otafleet::bundle::detail
