#include "rollout/FilterParser.h"

#include <array>
#include <utility>

namespace otafleet::rollout {
namespace {

struct Token {
    enum class Type { Word, Quoted, Op, LParen, RParen, End };
    Type type = Type::End;
    QString text;
    FilterOp op = FilterOp::Equal;
    qsizetype column = 0;  // 1-based
};

bool isSpecial(QChar c) {
    return c.isSpace() || c == u'(' || c == u')' || c == u'=' || c == u'!' || c == u'<' ||
           c == u'>' || c == u'"' || c == u'\'';
}

Error errorAt(const char* code, qsizetype column, const QString& what) {
    return Error{QString::fromLatin1(code),
                 QStringLiteral("Filter expression: %1 at column %2.").arg(what).arg(column)};
}

Result<std::vector<Token>> tokenize(QStringView text) {
    std::vector<Token> tokens;
    qsizetype i = 0;
    while (i < text.size()) {
        const QChar c = text[i];
        const qsizetype column = i + 1;
        if (c.isSpace()) {
            ++i;
        } else if (c == u'(' || c == u')') {
            tokens.push_back({c == u'(' ? Token::Type::LParen : Token::Type::RParen, QString(c),
                              FilterOp::Equal, column});
            ++i;
        } else if (c == u'=' || c == u'!' || c == u'<' || c == u'>') {
            const bool eq = i + 1 < text.size() && text[i + 1] == u'=';
            FilterOp op = FilterOp::Equal;
            if (c == u'!') {
                if (!eq) {
                    return fail(errorAt("filter.syntax", column,
                                        QStringLiteral("'!' must be followed by '=' (use 'not' "
                                                       "to negate)")));
                }
                op = FilterOp::NotEqual;
            } else if (c == u'<') {
                op = eq ? FilterOp::LessOrEqual : FilterOp::Less;
            } else if (c == u'>') {
                op = eq ? FilterOp::GreaterOrEqual : FilterOp::Greater;
            } else if (eq) {  // "==" is accepted as "="
                op = FilterOp::Equal;
            }
            const qsizetype length = (eq || c == u'!') ? 2 : 1;
            tokens.push_back({Token::Type::Op, text.mid(i, length).toString(), op, column});
            i += length;
        } else if (c == u'"' || c == u'\'') {
            QString value;
            qsizetype j = i + 1;
            bool closed = false;
            while (j < text.size()) {
                const QChar d = text[j];
                if (d == u'\\' && j + 1 < text.size() &&
                    (text[j + 1] == c || text[j + 1] == u'\\')) {
                    value += text[j + 1];
                    j += 2;
                } else if (d == c) {
                    closed = true;
                    ++j;
                    break;
                } else {
                    value += d;
                    ++j;
                }
            }
            if (!closed) {
                return fail(errorAt("filter.syntax", column,
                                    QStringLiteral("the quoted value is never closed; add the "
                                                   "closing %1")
                                        .arg(c)));
            }
            tokens.push_back({Token::Type::Quoted, value, FilterOp::Equal, column});
            i = j;
        } else {
            qsizetype j = i;
            while (j < text.size() && !isSpecial(text[j])) {
                ++j;
            }
            tokens.push_back(
                {Token::Type::Word, text.mid(i, j - i).toString(), FilterOp::Equal, column});
            i = j;
        }
    }
    tokens.push_back({Token::Type::End, QString(), FilterOp::Equal, text.size() + 1});
    return tokens;
}

struct FieldName {
    const char* name;
    FilterField field;
};
constexpr std::array kFields{
    FieldName{"model", FilterField::Model},     FieldName{"hardware", FilterField::Hardware},
    FieldName{"version", FilterField::Version}, FieldName{"tag", FilterField::Tag},
    FieldName{"group", FilterField::Group},     FieldName{"name", FilterField::Name},
    FieldName{"id", FilterField::Id},           FieldName{"state", FilterField::Online},
    FieldName{"online", FilterField::Online},
};

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

    Result<FilterNode> parseAll() {
        if (peek().type == Token::Type::End) {
            return FilterNode{};
        }
        auto node = parseOr(0);
        if (!node) {
            return node;
        }
        if (peek().type != Token::Type::End) {
            return fail(errorAt("filter.syntax", peek().column,
                                QStringLiteral("unexpected '%1'; join conditions with 'and' or "
                                               "'or'")
                                    .arg(peek().text.left(32))));
        }
        return node;
    }

private:
    const Token& peek() const { return m_tokens[m_pos]; }
    bool isKeyword(const char* keyword) const {
        return peek().type == Token::Type::Word &&
               peek().text.compare(QLatin1StringView(keyword), Qt::CaseInsensitive) == 0;
    }

    Result<FilterNode> parseBinary(int depth, bool isOr) {
        auto first = isOr ? parseBinary(depth, false) : parseUnary(depth);
        if (!first) {
            return first;
        }
        if (!isKeyword(isOr ? "or" : "and")) {
            return first;
        }
        FilterNode node;
        node.kind = isOr ? FilterNode::Kind::Or : FilterNode::Kind::And;
        node.children.push_back(std::move(*first));
        while (isKeyword(isOr ? "or" : "and")) {
            ++m_pos;
            auto next = isOr ? parseBinary(depth, false) : parseUnary(depth);
            if (!next) {
                return next;
            }
            node.children.push_back(std::move(*next));
        }
        return node;
    }
    Result<FilterNode> parseOr(int depth) { return parseBinary(depth, true); }

    Result<FilterNode> parseUnary(int depth) {
        if (depth >= DeviceFilter::kMaxDepth) {
            return fail(errorAt("filter.too-deep", peek().column,
                                QStringLiteral("more than %1 nested parentheses or 'not'; "
                                               "simplify the expression")
                                    .arg(DeviceFilter::kMaxDepth)));
        }
        if (isKeyword("not")) {
            ++m_pos;
            auto inner = parseUnary(depth + 1);
            if (!inner) {
                return inner;
            }
            FilterNode node;
            node.kind = FilterNode::Kind::Not;
            node.children.push_back(std::move(*inner));
            return node;
        }
        if (peek().type == Token::Type::LParen) {
            const qsizetype open = peek().column;
            ++m_pos;
            auto inner = parseOr(depth + 1);
            if (!inner) {
                return inner;
            }
            if (peek().type != Token::Type::RParen) {
                return fail(errorAt(
                    "filter.syntax", peek().column,
                    QStringLiteral("expected ')' to close the '(' of column %1").arg(open)));
            }
            ++m_pos;
            return inner;
        }
        return parseComparison();
    }

    Result<FilterNode> parseComparison() {
        const Token fieldToken = peek();
        if (fieldToken.type != Token::Type::Word) {
            return fail(errorAt("filter.syntax", fieldToken.column,
                                fieldToken.type == Token::Type::End
                                    ? QStringLiteral("the expression ends where a condition "
                                                     "such as model=gw-x1 is expected")
                                    : QStringLiteral("expected a field name such as model, "
                                                     "hardware or version, found '%1'")
                                          .arg(fieldToken.text.left(32))));
        }
        if (++m_comparisons > DeviceFilter::kMaxComparisons) {
            return fail(errorAt("filter.too-complex", fieldToken.column,
                                QStringLiteral("more than %1 conditions; split the selection")
                                    .arg(DeviceFilter::kMaxComparisons)));
        }
        FilterNode node;
        node.kind = FilterNode::Kind::Compare;
        bool known = false;
        for (const auto& f : kFields) {
            if (fieldToken.text.compare(QLatin1StringView(f.name), Qt::CaseInsensitive) == 0) {
                node.field = f.field;
                known = true;
            }
        }
        if (!known) {
            return fail(errorAt("filter.field", fieldToken.column,
                                QStringLiteral("unknown field '%1'; use one of model, hardware, "
                                               "version, tag, group, name, id, state, online")
                                    .arg(fieldToken.text.left(32))));
        }
        ++m_pos;
        const Token opToken = peek();
        if (opToken.type != Token::Type::Op) {
            return fail(errorAt("filter.syntax", opToken.column,
                                QStringLiteral("expected an operator (=, !=, <, <=, >, >=) after "
                                               "'%1'")
                                    .arg(fieldToken.text)));
        }
        node.op = opToken.op;
        ++m_pos;
        const Token valueToken = peek();
        if (valueToken.type != Token::Type::Word && valueToken.type != Token::Type::Quoted) {
            return fail(errorAt("filter.syntax", valueToken.column,
                                QStringLiteral("expected a value after '%1%2'; quote values "
                                               "that contain spaces or symbols")
                                    .arg(fieldToken.text, opToken.text)));
        }
        ++m_pos;
        node.value = valueToken.text;
        if (auto checked = checkValue(node, fieldToken, opToken, valueToken); !checked) {
            return fail(checked.error());
        }
        return node;
    }

    static Status checkValue(FilterNode& node, const Token& field, const Token& op,
                             const Token& value) {
        const bool ordering = node.op != FilterOp::Equal && node.op != FilterOp::NotEqual;
        if (ordering && node.field != FilterField::Version) {
            return fail(errorAt("filter.operator", op.column,
                                QStringLiteral("'%1' only compares versions; use = or != with "
                                               "'%2'")
                                    .arg(op.text, field.text)));
        }
        if (node.field == FilterField::Version) {
            auto version = SemVer::parse(node.value);
            if (!version) {
                return fail(errorAt("filter.version", value.column,
                                    QStringLiteral("'%1' is not a semantic version such as 2.0.0")
                                        .arg(node.value.left(64))));
            }
            node.version = *version;
            return {};
        }
        if (node.value.isEmpty()) {
            return fail(errorAt("filter.value", value.column,
                                QStringLiteral("'%1' needs a non-empty value").arg(field.text)));
        }
        if (node.field == FilterField::Online) {
            const QString v = node.value.toLower();
            const bool isState = field.text.compare(u"state", Qt::CaseInsensitive) == 0;
            bool online = false;
            if (isState && (v == u"online" || v == u"offline")) {
                online = v == u"online";
            } else if (!isState && (v == u"true" || v == u"yes" || v == u"1")) {
                online = true;
            } else if (!isState && (v == u"false" || v == u"no" || v == u"0")) {
                online = false;
            } else {
                return fail(errorAt("filter.value", value.column,
                                    isState ? QStringLiteral("state is 'online' or 'offline', "
                                                             "not '%1'")
                                                  .arg(node.value.left(32))
                                            : QStringLiteral("online is 'true' or 'false', not "
                                                             "'%1'")
                                                  .arg(node.value.left(32))));
            }
            node.value = online ? QStringLiteral("true") : QStringLiteral("false");
        }
        return {};
    }

    std::vector<Token> m_tokens;
    std::size_t m_pos = 0;
    int m_comparisons = 0;
};

}  // namespace

Result<DeviceFilter> FilterParser::parse(QStringView expression) {
    if (expression.size() > DeviceFilter::kMaxLength) {
        return fail(errorAt("filter.too-long", DeviceFilter::kMaxLength + 1,
                            QStringLiteral("the expression is longer than %1 characters; "
                                           "select with tags or groups instead")
                                .arg(DeviceFilter::kMaxLength)));
    }
    auto tokens = tokenize(expression);
    if (!tokens) {
        return fail(tokens.error());
    }
    Parser parser(std::move(*tokens));
    auto root = parser.parseAll();
    if (!root) {
        return fail(root.error());
    }
    DeviceFilter filter(std::move(*root));
    // What is accepted must read back: a rollout's target is stored in canonical form and parsed
    // again after a restart, and quoting can make that form longer than what was typed.
    if (filter.toString().size() > DeviceFilter::kMaxLength) {
        return fail(errorAt("filter.too-long", DeviceFilter::kMaxLength + 1,
                            QStringLiteral("written out with its quoting the expression is "
                                           "longer than %1 characters; shorten the values or "
                                           "select with tags or groups instead")
                                .arg(DeviceFilter::kMaxLength)));
    }
    return filter;
}

}  // namespace otafleet::rollout
