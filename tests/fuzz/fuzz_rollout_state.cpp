// Fuzz target: a stored rollout engine state, as otafleetd reads it back after a restart. Must
// refuse anything inconsistent with an error; a state it accepts must round-trip byte for byte,
// and the engine must be able to run on it (tick, events, status) without crashing.
#include "rollout/RolloutEngine.h"

#include <QTimeZone>

#include <cstddef>
#include <cstdint>

using namespace otafleet::rollout;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ManualClock clock(QDateTime(QDate(2026, 1, 5), QTime(12, 0), QTimeZone::utc()));
    auto engine =
        RolloutEngine::fromJsonBytes(QByteArrayView(data, static_cast<qsizetype>(size)), clock);
    if (!engine) {
        if (engine.error().code.isEmpty() || engine.error().message.isEmpty()) {
            __builtin_trap();
        }
        return 0;
    }
    const QByteArray saved = engine->toJsonBytes();
    auto again = RolloutEngine::fromJsonBytes(saved, clock);
    if (!again || again->toJsonBytes() != saved) {
        __builtin_trap();
    }
    const TickResult r = engine->tick();
    for (const QString& id : r.offers) {
        (void)engine->onDeviceEvent(id, DeviceEvent{DeviceState::Succeeded, {}});
    }
    const RolloutStatus status = engine->status();
    qint64 sum = 0;
    for (const qint64 c : status.counts) {
        sum += c;
    }
    if (sum != status.total) {
        __builtin_trap();
    }
    return 0;
}
