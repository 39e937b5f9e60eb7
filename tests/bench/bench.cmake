# Benchmarks print figures beside baselines measured in the same run; they assert nothing.
# `cmake --build build/dev --target bench` runs the full-size one (256 MiB); ctest runs a 16 MiB
# smoke run (label bench) so the script cannot rot.
add_custom_target(bench
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_push.sh ${CMAKE_BINARY_DIR}/bin 256
    DEPENDS otafleetctl otafleet-agent USES_TERMINAL)
add_test(NAME bench_push_smoke COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_push.sh ${CMAKE_BINARY_DIR}/bin 16)
set_tests_properties(bench_push_smoke PROPERTIES LABELS bench TIMEOUT 240)
