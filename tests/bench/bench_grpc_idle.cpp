// Benchmark baseline: the smallest gRPC server over TLS that gRPC 1.51 and OpenSSL allow — one
// callback generic service answering UNIMPLEMENTED (gRPC needs a polled queue), no Qt, no
// otafleet code — so bench_push.sh can show how much of the agent's idle RSS
// is the floor its transport libraries impose. Listens on 127.0.0.1:PORT and serves until
// SIGTERM or SIGINT. Usage: bench_grpc_idle CERT.pem KEY.pem PORT
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

std::string readAll(const char* path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: bench_grpc_idle CERT.pem KEY.pem PORT\n");
        return 2;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // gRPC's threads inherit the mask

    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({readAll(argv[2]), readAll(argv[1])});
    grpc::ServerBuilder builder;
    grpc::CallbackGenericService unimplemented;
    builder.RegisterCallbackGenericService(&unimplemented);
    int port = 0;
    builder.AddListeningPort(std::string("127.0.0.1:") + argv[3], grpc::SslServerCredentials(tls),
                             &port);
    const std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server || port == 0) {
        std::fprintf(stderr, "bench_grpc_idle: could not listen\n");
        return 1;
    }
    int received = 0;
    sigwait(&signals, &received);
    server->Shutdown();
    return 0;
}
