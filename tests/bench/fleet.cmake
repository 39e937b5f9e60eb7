# Fleet benchmark (issue 8): 10,000 simulated devices on one otafleetd (server RSS per device,
# rollout speed beside AWS IoT Jobs' 1,000/min ceiling), telemetry ingest beside a bare sqlite3
# bulk insert, device page query p50/p99 at 10,000 and 1,000,000 devices. Full size:
# `cmake --build build/ci --target bench_fleet` (minutes, most of a 2-core machine); ctest runs a
# smoke run at tiny sizes (label bench) so the script cannot rot.
add_executable(bench_fleet_tool bench_fleet_tool.cpp)
target_link_libraries(bench_fleet_tool PRIVATE otafleet_server otafleet_store otafleet_proto gRPC::grpc++
    Qt6::Sql)
otafleet_strict(bench_fleet_tool)
add_custom_target(bench_fleet
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_fleet.sh ${CMAKE_BINARY_DIR}/bin 10000 1000000
    DEPENDS otafleetd otafleetctl bench_fleet_tool USES_TERMINAL)
add_test(NAME bench_fleet_smoke
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_fleet.sh ${CMAKE_BINARY_DIR}/bin 20 2000)
set_tests_properties(bench_fleet_smoke PROPERTIES LABELS bench TIMEOUT 240)
