// Fuzz target: a rollout's status as otafleetd sends it to a console (status_json, read by
// fleet::RemoteRollouts). Must refuse anything malformed with an error; a status it accepts must
// round-trip through toJson() to the same status.
#include "rollout/RolloutStatus.h"

#include <QJsonDocument>

#include <cstddef>
#include <cstdint>

using namespace otafleet::rollout;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto status = RolloutStatus::fromJsonBytes(QByteArrayView(data, static_cast<qsizetype>(size)));
    if (!status) {
        if (status.error().code.isEmpty() || status.error().message.isEmpty()) {
            __builtin_trap();
        }
        return 0;
    }
    const QByteArray saved = QJsonDocument(status->toJson()).toJson(QJsonDocument::Compact);
    auto again = RolloutStatus::fromJsonBytes(saved);
    if (!again || QJsonDocument(again->toJson()).toJson(QJsonDocument::Compact) != saved) {
        __builtin_trap();
    }
    return 0;
}
