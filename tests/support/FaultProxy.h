// A small TCP fault proxy for network-trouble tests: listens on 127.0.0.1 and forwards each
// connection to an upstream port (an agent), passing TLS through untouched. A script, changeable
// at any time, injects faults into the client->upstream direction of new connections: drop after
// N bytes, stall after N bytes (for a while or for good, optionally delivering the stalled bytes
// late), trickle at B bytes/s, refuse (RST) the next K connection attempts, delay accepted
// connections, or add latency (a fixed delay each way, for long round trips). It counts the bytes
// it forwarded.
#pragma once

#include "common/Error.h"

#include <QString>

#include <memory>

namespace otafleet::test {

class FaultProxy {
public:
    struct Script {
        qint64 dropAfter = -1;   // per connection: reset both sides after N client bytes
        int drops = 0;           // how many connections get dropped (then pass through)
        qint64 stallAfter = -1;  // per connection: stop forwarding after N client bytes
        int stallMs = -1;        // how long; -1 = until the client gives up
        int stalls = 0;          // how many connections get stalled
        // A stalled connection the client gave up on still delivers what it had buffered once
        // the stall ends: its bytes reach the upstream after those of the client's next
        // connection (a reordering of old and new connection attempts).
        bool deliverLate = false;
        qint64 trickleBytesPerSecond = 0;  // 0 = full speed
        int refuseNext = 0;                // accept and reset at once the next K connections
        int acceptDelayMs = 0;             // hold each new connection this long before forwarding
        // >= 0: each way, bytes leave this long after they arrived (round trip + 2 x latencyMs),
        // at full speed otherwise: up to kMaxDelayedBytes per direction wait in the proxy, which
        // stops reading beyond that. A connection with latency takes no other fault.
        int latencyMs = -1;
    };

    static constexpr qint64 kMaxDelayedBytes = 64 * 1024 * 1024;

    // Listens on 127.0.0.1:<free port> and forwards to 127.0.0.1:upstreamPort.
    [[nodiscard]] static Result<std::unique_ptr<FaultProxy>> start(quint16 upstreamPort);
    ~FaultProxy();  // stops listening, closes every connection, joins its threads
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    void setScript(const Script& script);  // applies to connections accepted from now on
    [[nodiscard]] QString target() const;  // "127.0.0.1:PORT"
    [[nodiscard]] qint64 bytesToUpstream() const;
    [[nodiscard]] qint64 bytesToClient() const;
    [[nodiscard]] int connections() const;  // accepted, including refused ones
    [[nodiscard]] int refused() const;
    [[nodiscard]] int dropped() const;
    [[nodiscard]] int stalled() const;

private:
    FaultProxy();
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace otafleet::test
