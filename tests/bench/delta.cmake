# Delta benchmark: `cmake --build build/dev --target bench_delta` runs the full pairs; ctest runs
# a one-pair smoke run (label bench) so the script cannot rot. Needs bsdiff and zstd installed.
add_executable(bench_delta_apply bench_delta_apply.cpp)
target_link_libraries(bench_delta_apply PRIVATE otafleet_agentcore otafleet_bundle Qt6::Core)
otafleet_strict(bench_delta_apply)
add_custom_target(bench_delta
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_delta.sh ${CMAKE_BINARY_DIR}/bin full
    DEPENDS otafleetctl bench_delta_apply USES_TERMINAL)
find_program(OTAFLEET_BSDIFF bsdiff)
if(OTAFLEET_BSDIFF)
    add_test(NAME bench_delta_smoke
        COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_delta.sh ${CMAKE_BINARY_DIR}/bin smoke)
    set_tests_properties(bench_delta_smoke PROPERTIES LABELS bench TIMEOUT 240)
endif()
