#include "bundle/JsonScan.h"

#include <QString>

#include <algorithm>

namespace otafleet::bundle::detail {
namespace {

bool isJsonSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

Result<JsonScanResult> scanJson(QByteArrayView json, int maxDepth, const QString& errorCode,
                                const QString& what) {
    JsonScanResult result;
    int depth = 0;
    QByteArrayView lastKey;
    const qsizetype n = json.size();
    const auto bad = [&](const QString& sentence) { return fail(errorCode, sentence); };

    for (qsizetype i = 0; i < n; ++i) {
        const char c = json[i];
        if (c == '"') {
            const qsizetype start = i + 1;
            for (++i; i < n && json[i] != '"'; ++i) {
                if (json[i] == '\\') {
                    ++i;  // skip the escaped character; \uXXXX digits are plain characters
                }
            }
            if (i >= n) {
                return bad(QStringLiteral("The %1 ends inside a text value; the file is cut "
                                          "short or damaged. Get a fresh copy.")
                               .arg(what));
            }
            const QByteArrayView text = json.sliced(start, i - start);
            qsizetype j = i + 1;
            while (j < n && isJsonSpace(json[j])) {
                ++j;
            }
            if (j < n && json[j] == ':') {
                ++result.keyCount;
                lastKey = text.first(std::min<qsizetype>(text.size(), 64));
            }
        } else if (c == '{' || c == '[') {
            if (++depth > maxDepth) {
                return bad(QStringLiteral("The %1 nests objects or lists deeper than %2 levels, "
                                          "which no valid one does; it was not made by otafleet. "
                                          "Do not install it.")
                               .arg(what)
                               .arg(maxDepth));
            }
        } else if (c == '}' || c == ']') {
            --depth;
        } else if (c == '-' || isDigit(c)) {
            qsizetype j = i;
            while (j < n && (isDigit(json[j]) || json[j] == '-' || json[j] == '+' ||
                             json[j] == '.' || json[j] == 'e' || json[j] == 'E')) {
                ++j;
            }
            const QByteArrayView number = json.sliced(i, j - i);
            const QString key = QString::fromUtf8(lastKey);
            bool plain = number.size() <= 16 && (number == "0" || number.front() != '0');
            for (char d : number) {
                plain = plain && isDigit(d);
            }
            quint64 value = 0;
            if (plain) {
                for (char d : number) {
                    value = value * 10 + static_cast<quint64>(d - '0');
                }
            }
            if (!plain || value > kMaxJsonInteger) {
                return bad(QStringLiteral("In the %1, '%2' holds %3, which is not a whole number "
                                          "between 0 and 2^53; the file is damaged or was not "
                                          "made by otafleet.")
                               .arg(what, key,
                                    QString::fromLatin1(
                                        number.first(std::min<qsizetype>(number.size(), 32)))));
            }
            i = j - 1;
        }
    }
    return result;
}

}  // namespace otafleet::bundle::detail
