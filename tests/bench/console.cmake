# The console's device table over a store of 1,000,000 devices (first painted page, filter and
# sort changes, scrolling, peak RSS) and the 1,000,000-point chart replot beside adaptive
# sampling off: `cmake --build build/ci --target bench_console`. ctest runs a 20,000-device smoke
# run (label bench) so the benchmark cannot rot. Offscreen: no display needed.
if(TARGET otafleet_ui)
    add_executable(bench_console_devices bench_console_devices.cpp)
    target_link_libraries(bench_console_devices PRIVATE otafleet_ui otafleet_fleet otafleet_store
        otafleet_testsupport Qt6::Widgets Qt6::Sql)
    otafleet_strict(bench_console_devices)
    add_custom_target(bench_console
        COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
            $<TARGET_FILE:bench_console_devices> --devices 1000000
        COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
            $<TARGET_FILE:bench_chart_replot> --points 1000000
        DEPENDS bench_console_devices bench_chart_replot USES_TERMINAL)
    add_dependencies(bench bench_console_devices)
    add_test(NAME bench_console_smoke
        COMMAND bench_console_devices --devices 20000 --skip-baseline)
    set_tests_properties(bench_console_smoke PROPERTIES LABELS bench TIMEOUT 120
        ENVIRONMENT QT_QPA_PLATFORM=offscreen)
endif()
