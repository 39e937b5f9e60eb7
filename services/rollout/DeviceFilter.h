// The device filter language of `otafleetctl fleet devices --filter EXPR` and
// `rollout create --target EXPR`: parsed once into an AST, evaluated against DeviceFacts here and
// translated to SQL by the store.
//
// Grammar (keywords and field names are case-insensitive, values are case-sensitive):
//   expr       := or
//   or         := and ("or" and)*
//   and        := unary ("and" unary)*
//   unary      := "not" unary | "(" expr ")" | comparison
//   comparison := FIELD OP VALUE
//   FIELD      := model | hardware | version | tag | group | name | id | state | online
//   OP         := "=" | "!=" | "<" | "<=" | ">" | ">="
//   VALUE      := bare word (no whitespace, quotes, parentheses, = ! < >) or a quoted string
//                 ('...' or "..." with \" \' \\ escapes)
// An empty (or all-blank) expression matches every device.
//
// Meaning of each field:
//   model, hardware, name, id  exact string compare; only = and !=
//   version   SemVer 2.0 precedence (build metadata ignored); every operator; the value must be
//             a valid SemVer (checked at parse time). A device whose version is not SemVer
//             matches only "!=".
//   tag, group  "tag=x": the device carries tag x; "tag!=x": it does not. Only = and !=.
//   state     value "online" or "offline"; only = and !=.
//   online    value "true" or "false" (also yes/no, 1/0); only = and !=.
// Both `state` and `online` parse to Field::Online with a boolean value, so the store has one
// case for them.
//
// Limits: kMaxLength characters, kMaxDepth nested parentheses/not, kMaxComparisons comparisons.
// Error codes, all with the 1-based column in the message ("... at column 12"):
//   filter.too-long, filter.too-deep, filter.too-complex, filter.syntax, filter.field,
//   filter.operator, filter.value, filter.version.
#pragma once

#include "common/Error.h"
#include "common/SemVer.h"
#include "rollout/DeviceFacts.h"

#include <QString>

#include <optional>
#include <vector>

namespace otafleet::rollout {

enum class FilterField { Model, Hardware, Version, Tag, Group, Name, Id, Online };
enum class FilterOp { Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual };

// One node of the AST. Shape by kind:
//   All      no children, no comparison: matches every device (the empty expression)
//   And, Or  two or more children, evaluated left to right (chains are flattened:
//            "a and b and c" is one And with three children)
//   Not      exactly one child
//   Compare  no children; field, op and value are set. value is the unquoted text as written
//            (for Online it is normalised to "true" or "false"); version holds the parsed
//            SemVer when field == Version.
struct FilterNode {
    enum class Kind { All, And, Or, Not, Compare };
    Kind kind = Kind::All;
    std::vector<FilterNode> children;
    FilterField field = FilterField::Model;
    FilterOp op = FilterOp::Equal;
    QString value;
    std::optional<SemVer> version;
};

class DeviceFilter {
public:
    static constexpr qsizetype kMaxLength = 4096;
    static constexpr int kMaxDepth = 32;
    static constexpr int kMaxComparisons = 256;

    DeviceFilter() = default;  // matches every device

    [[nodiscard]] static Result<DeviceFilter> parse(QStringView expression);

    [[nodiscard]] bool matches(const DeviceFacts& device) const;
    [[nodiscard]] const FilterNode& root() const { return m_root; }
    [[nodiscard]] bool matchesAll() const { return m_root.kind == FilterNode::Kind::All; }
    // Canonical text (lower-case keywords, fully parenthesised groups, values quoted when
    // needed) that parses back to the same AST. Empty for a match-all filter.
    [[nodiscard]] QString toString() const;

    [[nodiscard]] static QString fieldName(FilterField field);
    [[nodiscard]] static QString opText(FilterOp op);

private:
    explicit DeviceFilter(FilterNode root) : m_root(std::move(root)) {}
    friend class FilterParser;

    FilterNode m_root;
};

}  // namespace otafleet::rollout
