// For bench_push.sh: the fault proxy (tests/support/FaultProxy.h) with latency only, so a push
// can be timed over a long round trip where tc netem is not available. Usage:
//   bench_delay_proxy UPSTREAM_PORT ONE_WAY_MS
// prints "127.0.0.1:PORT" when listening, forwards until stdin closes or a signal ends it.
#include "FaultProxy.h"

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: bench_delay_proxy UPSTREAM_PORT ONE_WAY_MS [bench.usage]\n");
        return 2;
    }
    const int upstream = std::atoi(argv[1]);
    const int latency = std::atoi(argv[2]);
    if (upstream <= 0 || upstream > 65535 || latency < 0 || latency > 10000) {
        std::fprintf(stderr,
                     "bench_delay_proxy: give a port (1-65535) and a delay of 0 to 10000 ms "
                     "[bench.usage]\n");
        return 2;
    }
    auto proxy = otafleet::test::FaultProxy::start(static_cast<quint16>(upstream));
    if (!proxy) {
        std::fprintf(stderr, "bench_delay_proxy: %s\n", qPrintable(proxy.error().toString()));
        return 1;
    }
    otafleet::test::FaultProxy::Script script;
    script.latencyMs = latency;
    (*proxy)->setScript(script);
    std::printf("%s\n", qPrintable((*proxy)->target()));
    std::fflush(stdout);
    while (std::getchar() != EOF) {
    }
    return 0;
}
