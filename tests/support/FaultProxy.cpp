#include "FaultProxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace otafleet::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kTickMs = 10;
constexpr qint64 kBufferSize = 16 * 1024;

sockaddr_in loopback(quint16 port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// Closes with RST instead of FIN, as a dropped link or a refusing middlebox would.
void reset(int fd) {
    if (fd < 0)
        return;
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

// A peer that stops reading must not pin a pump thread (and the proxy's destructor) forever.
void boundSends(int fd) {
    timeval t{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, sizeof t);
}

bool sendAll(int fd, const char* data, qint64 size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size_t(size), MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data += n;
        size -= n;
    }
    return true;
}

}  // namespace

struct FaultProxy::Impl {
    quint16 upstreamPort = 0;
    quint16 port = 0;
    int listener = -1;
    std::atomic<bool> stop{false};
    std::mutex mutex;
    Script script;
    std::vector<std::thread> threads;
    std::atomic<qint64> toUpstream{0}, toClient{0};
    std::atomic<int> accepted{0}, refusedCount{0}, droppedCount{0}, stalledCount{0};

    // Takes one fault of a limited kind if any is left.
    bool take(int Script::*counter) {
        std::lock_guard lock(mutex);
        if (script.*counter <= 0)
            return false;
        --(script.*counter);
        return true;
    }

    void acceptLoop() {
        while (!stop) {
            pollfd p{listener, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            const int client = ::accept(listener, nullptr, nullptr);
            if (client < 0)
                continue;
            ++accepted;
            Script now;
            {
                std::lock_guard lock(mutex);
                if (script.refuseNext > 0) {
                    --script.refuseNext;
                    ++refusedCount;
                    reset(client);
                    continue;
                }
                now = script;
                threads.emplace_back([this, client, now] { pump(client, now); });
            }
        }
    }

    // One direction of a connection with latency: what arrived, each piece with the time it may
    // leave.
    struct Delayed {
        struct Piece {
            Clock::time_point due;
            std::vector<char> bytes;
            size_t sent = 0;
        };
        int from = -1, to = -1;
        std::deque<Piece> pieces;
        qint64 queued = 0;
        bool ended = false;   // `from` closed its side
        bool closed = false;  // ... and everything before that was delivered
        std::atomic<qint64>* counter = nullptr;

        // Reads what is there (while there is room). False when the connection broke.
        bool read(std::chrono::milliseconds latency) {
            static thread_local std::vector<char> scratch(256 * 1024);
            const ssize_t n = ::recv(from, scratch.data(), scratch.size(), MSG_DONTWAIT);
            if (n < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
            if (n == 0) {
                ended = true;
                return true;
            }
            queued += n;
            pieces.push_back(
                {Clock::now() + latency, std::vector<char>(scratch.data(), scratch.data() + n), 0});
            return true;
        }
        // Sends what is due. False when the connection broke.
        bool write() {
            while (!pieces.empty() && pieces.front().due <= Clock::now()) {
                Piece& p = pieces.front();
                const ssize_t n = ::send(to, p.bytes.data() + p.sent, p.bytes.size() - p.sent,
                                         MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0)
                    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
                p.sent += size_t(n);
                queued -= n;
                *counter += n;
                if (p.sent < p.bytes.size())
                    return true;
                pieces.pop_front();
            }
            if (ended && pieces.empty() && !closed) {
                ::shutdown(to, SHUT_WR);
                closed = true;
            }
            return true;
        }
        [[nodiscard]] bool canRead() const { return !ended && queued < kMaxDelayedBytes; }
        [[nodiscard]] bool mustWrite() const {
            return !pieces.empty() && pieces.front().due <= Clock::now();
        }
    };

    // Forwards both ways with latency: reads whenever there is room, sends what is due.
    void pumpDelayed(int client, int up, std::chrono::milliseconds latency) {
        const int nodelay = 1;
        for (int fd : {client, up})
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
        Delayed ways[2];
        ways[0].from = client;
        ways[0].to = up;
        ways[0].counter = &toUpstream;
        ways[1].from = up;
        ways[1].to = client;
        ways[1].counter = &toClient;
        while (!stop && !(ways[0].closed && ways[1].closed)) {
            pollfd p[2] = {{client, 0, 0}, {up, 0, 0}};
            int timeoutMs = kTickMs;
            for (int i = 0; i < 2; ++i) {
                Delayed& w = ways[i];
                if (w.canRead())
                    p[i].events |= POLLIN;
                if (w.mustWrite())
                    p[1 - i].events |= POLLOUT;
                else if (!w.pieces.empty()) {
                    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(
                        w.pieces.front().due - Clock::now());
                    timeoutMs = std::clamp(int(wait.count()), 0, timeoutMs);
                }
            }
            if (::poll(p, 2, timeoutMs) < 0 && errno != EINTR)
                break;
            if ((p[0].revents | p[1].revents) & (POLLERR | POLLNVAL))
                break;
            bool ok = true;
            for (int i = 0; i < 2 && ok; ++i) {
                if (ways[i].canRead() && (p[i].revents & (POLLIN | POLLHUP)))
                    ok = ways[i].read(latency);
            }
            for (int i = 0; i < 2 && ok; ++i)
                ok = ways[i].write();
            if (!ok)
                break;
        }
        reset(up);
        reset(client);
    }

    void pump(int client, const Script& s) {
        for (int waited = 0; waited < s.acceptDelayMs && !stop; waited += kTickMs)
            std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
        const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const sockaddr_in a = loopback(upstreamPort);
        if (stop || ::connect(up, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
            reset(up);
            reset(client);
            return;
        }
        if (s.latencyMs >= 0) {
            pumpDelayed(client, up, std::chrono::milliseconds(s.latencyMs));
            return;
        }
        boundSends(client);
        boundSends(up);
        qint64 clientBytes = 0, trickled = 0;
        bool stalling = false, stallDone = false, dropDone = false, clientGone = false;
        Clock::time_point stallUntil;
        const Clock::time_point started = Clock::now();
        char buffer[kBufferSize];
        const auto finish = [&] {
            reset(up);
            reset(client);
        };
        while (!stop) {
            if (stalling && s.stallMs >= 0 && Clock::now() >= stallUntil)
                stalling = false;
            qint64 limit = kBufferSize;
            if (s.dropAfter >= 0 && !dropDone)
                limit = std::min(limit, std::max<qint64>(1, s.dropAfter - clientBytes));
            if (s.stallAfter >= 0 && !stallDone)
                limit = std::min(limit, std::max<qint64>(1, s.stallAfter - clientBytes));
            if (s.trickleBytesPerSecond > 0) {
                const auto ms =
                    std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)
                        .count();
                limit = std::min(limit, s.trickleBytesPerSecond * ms / 1000 - trickled);
            }
            const bool readClient = !stalling && limit > 0;
            // While holding a connection for late delivery, a client that went away is no reason
            // to stop: its bytes still wait in the socket.
            const bool watchClient = !(stalling && s.deliverLate);
            const short clientEvents =
                short((watchClient ? POLLRDHUP : 0) | (readClient ? POLLIN : 0));
            pollfd p[2] = {{client, clientEvents, 0}, {up, POLLIN, 0}};
            if (::poll(p, 2, kTickMs) < 0)
                break;
            if (watchClient && (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)))
                break;
            if (watchClient && !readClient && (p[0].revents & POLLRDHUP))
                break;  // the client gave up on a stalled or throttled connection
            if (readClient && (p[0].revents & (POLLIN | POLLRDHUP))) {
                const ssize_t n = ::recv(client, buffer, size_t(limit), 0);
                if (n <= 0 || !sendAll(up, buffer, n))
                    break;
                clientBytes += n;
                trickled += n;
                toUpstream += n;
                if (s.dropAfter >= 0 && !dropDone && clientBytes >= s.dropAfter) {
                    dropDone = true;
                    if (take(&Script::drops)) {
                        ++droppedCount;
                        break;
                    }
                }
                if (s.stallAfter >= 0 && !stallDone && clientBytes >= s.stallAfter) {
                    stallDone = true;
                    if (take(&Script::stalls)) {
                        ++stalledCount;
                        stalling = true;
                        stallUntil = Clock::now() + std::chrono::milliseconds(s.stallMs);
                    }
                }
            }
            if (p[1].revents & (POLLIN | POLLERR | POLLHUP)) {
                const ssize_t n = ::recv(up, buffer, sizeof buffer, 0);
                if (n <= 0)
                    break;
                if (!clientGone && !sendAll(client, buffer, n)) {
                    if (!s.deliverLate)
                        break;
                    clientGone = true;  // keep delivering the other way
                }
                if (!clientGone)
                    toClient += n;
            }
        }
        finish();
    }
};

FaultProxy::FaultProxy() : d(std::make_unique<Impl>()) {}

FaultProxy::~FaultProxy() {
    d->stop = true;
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(d->mutex);
        threads.swap(d->threads);
    }
    for (std::thread& t : threads)
        t.join();
    // The accept thread may have added a pump before it saw `stop`.
    for (std::thread& t : d->threads)
        t.join();
    if (d->listener >= 0)
        ::close(d->listener);
}

Result<std::unique_ptr<FaultProxy>> FaultProxy::start(quint16 upstreamPort) {
    std::unique_ptr<FaultProxy> proxy(new FaultProxy());
    Impl& d = *proxy->d;
    d.upstreamPort = upstreamPort;
    d.listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int yes = 1;
    ::setsockopt(d.listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in a = loopback(0);
    socklen_t size = sizeof a;
    if (d.listener < 0 || ::bind(d.listener, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(d.listener, 64) != 0 ||
        ::getsockname(d.listener, reinterpret_cast<sockaddr*>(&a), &size) != 0) {
        return fail(QStringLiteral("test.proxy"),
                    QStringLiteral("The fault proxy could not listen on 127.0.0.1."));
    }
    d.port = ntohs(a.sin_port);
    std::lock_guard lock(d.mutex);
    d.threads.emplace_back([&d] { d.acceptLoop(); });
    return proxy;
}

void FaultProxy::setScript(const Script& script) {
    std::lock_guard lock(d->mutex);
    d->script = script;
}

QString FaultProxy::target() const {
    return QStringLiteral("127.0.0.1:%1").arg(d->port);
}
qint64 FaultProxy::bytesToUpstream() const {
    return d->toUpstream;
}
qint64 FaultProxy::bytesToClient() const {
    return d->toClient;
}
int FaultProxy::connections() const {
    return d->accepted;
}
int FaultProxy::refused() const {
    return d->refusedCount;
}
int FaultProxy::dropped() const {
    return d->droppedCount;
}
int FaultProxy::stalled() const {
    return d->stalledCount;
}

}  // namespace otafleet::test
