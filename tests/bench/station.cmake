# Factory station benchmark (issue 10): 16 simulated units at once beside one alone, each on a
# pty paced at 115200 baud (aggregate speed-up). ctest runs a small smoke run so the script
# cannot rot: 4 units, 8 KiB, unpaced.
add_test(NAME bench_station_smoke
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_station.sh ${CMAKE_BINARY_DIR}/bin 4 8 0)
set_tests_properties(bench_station_smoke PROPERTIES LABELS bench TIMEOUT 120)
