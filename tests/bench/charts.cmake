# QCustomPlot replot of a 1,000,000-point series, adaptive sampling on beside off (the baseline):
# `cmake --build build/dev --target bench_charts` runs the full size; ctest runs a 100,000-point
# smoke run (label bench) so the benchmark cannot rot. Offscreen: no display needed.
if(TARGET otafleet_ui)
    add_executable(bench_chart_replot bench_chart_replot.cpp)
    target_link_libraries(bench_chart_replot PRIVATE otafleet_ui Qt6::Widgets)
    otafleet_strict(bench_chart_replot)
    add_custom_target(bench_charts
        COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
            $<TARGET_FILE:bench_chart_replot> --points 1000000
        DEPENDS bench_chart_replot USES_TERMINAL)
    add_dependencies(bench bench_chart_replot)
    add_test(NAME bench_charts_smoke
        COMMAND bench_chart_replot --points 100000 --rounds 2)
    set_tests_properties(bench_charts_smoke PROPERTIES LABELS bench TIMEOUT 120
        ENVIRONMENT QT_QPA_PLATFORM=offscreen)
endif()
