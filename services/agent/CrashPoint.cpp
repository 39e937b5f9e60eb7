#include "agent/CrashPoint.h"

#include <QByteArray>
#include <QHash>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace otafleet::agent::crash {
namespace {

constexpr const char* kVariable = "OTAFLEET_AGENT_CRASH_AT";

struct Target {
    QByteArray point;  // empty: trace mode
    quint64 count = 0;
    bool trace = false;
};

const Target& target() {
    static const Target t = [] {
        Target out;
        const QByteArray spec = qgetenv(kVariable);
        if (spec == "trace") {
            out.trace = true;
            return out;
        }
        const qsizetype colon = spec.lastIndexOf(':');
        if (colon > 0) {
            out.point = spec.left(colon);
            out.count = spec.mid(colon + 1).toULongLong();
        }
        return out;
    }();
    return t;
}

[[noreturn]] void die(const char* point) {
    std::fprintf(stderr, "otafleet-agent: crash point %s reached, killing myself\n", point);
    std::fflush(stderr);
    std::raise(SIGKILL);
    std::_Exit(137);  // not reached
}

}  // namespace

namespace detail {

const bool armed = std::getenv(kVariable) != nullptr;

void hit(const char* point) {
    static std::mutex mutex;
    static QHash<QByteArray, quint64> hits;
    const Target& t = target();
    std::lock_guard lock(mutex);
    const quint64 n = ++hits[QByteArray(point)];
    if (t.trace) {
        std::fprintf(stderr, "otafleet-agent: crash point %s %llu\n", point,
                     static_cast<unsigned long long>(n));
        std::fflush(stderr);
        return;
    }
    if (n == t.count && t.point == point)
        die(point);
}

void slotBytes(quint64 before, quint64 length, quint64* allowed) {
    const Target& t = target();
    if (t.point != "slot-write-bytes")
        return;
    if (t.count >= before && t.count < before + length)
        *allowed = t.count - before;
}

}  // namespace detail

void afterShortSlotWrite() {
    die("slot-write-bytes");
}

}  // namespace otafleet::agent::crash
