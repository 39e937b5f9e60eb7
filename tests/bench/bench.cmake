# Benchmarks print figures beside baselines measured in the same run; they assert nothing.
# `cmake --build build/dev --target bench` runs the full-size one: the agent's footprint (binary
# size, idle RSS after start and after GetInfo, peak RSS while streaming) and a 256 MiB push;
# ctest runs a 16 MiB smoke run (label bench) so the script cannot rot.
add_custom_target(bench
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_push.sh ${CMAKE_BINARY_DIR}/bin 256
    DEPENDS otafleetctl otafleet-agent USES_TERMINAL)
add_test(NAME bench_push_smoke COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_push.sh ${CMAKE_BINARY_DIR}/bin 16)
set_tests_properties(bench_push_smoke PROPERTIES LABELS bench TIMEOUT 240)
# Baseline for bench_push.sh's idle figures: a bare gRPC server over TLS (no otafleet service,
# no Qt).
add_executable(bench_grpc_idle bench_grpc_idle.cpp)
target_link_libraries(bench_grpc_idle PRIVATE gRPC::grpc++)
otafleet_strict(bench_grpc_idle)
add_dependencies(bench bench_grpc_idle)
# For the push over 50 ms round trips: the fault proxy with latency (tc netem needs a kernel
# module containers rarely have).
add_executable(bench_delay_proxy bench_delay_proxy.cpp)
target_link_libraries(bench_delay_proxy PRIVATE otafleet_testsupport)
otafleet_strict(bench_delay_proxy)
add_dependencies(bench bench_delay_proxy)
