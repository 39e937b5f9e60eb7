# SMP upload benchmark (issue 10): 256 KiB over a pty paced at 115200 baud beside the line-rate
# limit, and over UDP with 1, 2 and 4 requests in flight. ctest runs a 32 KiB smoke run.
add_test(NAME bench_smp_smoke COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_smp.sh ${CMAKE_BINARY_DIR}/bin 32)
set_tests_properties(bench_smp_smoke PROPERTIES LABELS bench TIMEOUT 120)
# The same over a pty to a real otafleet-agent ([smp] serial = pty, baud = 115200) with an .otab
# bundle (4 MiB by default; ctest runs a 32 KiB smoke run).
add_test(NAME bench_agentsmp_smoke
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_agentsmp.sh ${CMAKE_BINARY_DIR}/bin 32)
set_tests_properties(bench_agentsmp_smoke PROPERTIES LABELS bench TIMEOUT 120)
