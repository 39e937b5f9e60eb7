#include "common/Error.h"

namespace otafleet {

QString Error::toString() const {
    return QStringLiteral("%1 [%2]").arg(message, code);
}

Error Error::withContext(const QString& context) const {
    return Error{code, context + QStringLiteral(": ") + message};
}

}  // namespace otafleet
