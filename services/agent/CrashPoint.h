// Test hook for the fault-injection sweep: named points at every state-changing step (each fsync
// and rename boundary, each boot-state store, each slot write) where the agent kills itself with
// SIGKILL when OTAFLEET_AGENT_CRASH_AT=<point>:<n> names the point and its n-th hit, exactly as
// a power cut or `kill -9` would stop it there. OTAFLEET_AGENT_CRASH_AT=trace prints every hit
// ("otafleet-agent: crash point NAME N") so a test can enumerate them. Unset, a hook is one load
// of a flag read once at start.
#pragma once

#include <QtGlobal>

namespace otafleet::agent::crash {

namespace detail {
extern const bool armed;  // OTAFLEET_AGENT_CRASH_AT was set at start
void hit(const char* point);
void slotBytes(quint64 before, quint64 length, quint64* allowed);
}  // namespace detail

// A named crash point; `point` is a string literal.
inline void at(const char* point) {
    if (detail::armed) [[unlikely]]
        detail::hit(point);
}

// Before `length` bytes are written to a slot at offset `before`: returns how many of them may
// be written; when fewer than `length`, the caller writes those and then calls
// afterShortSlotWrite(). Driven by OTAFLEET_AGENT_CRASH_AT=slot-write-bytes:<N> (crash after N
// bytes reached the slot, whatever the payload's encoding: SlotStore::writeSlot is the one
// caller, for raw copies and decoded zstd and zstd-patch payloads alike).
[[nodiscard]] inline quint64 slotWriteAllowance(quint64 before, quint64 length) {
    quint64 allowed = length;
    if (detail::armed) [[unlikely]]
        detail::slotBytes(before, length, &allowed);
    return allowed;
}

// Kills the process now if slotWriteAllowance() cut a write short.
void afterShortSlotWrite();

}  // namespace otafleet::agent::crash
