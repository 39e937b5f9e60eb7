# Bundle create+sign/verify benchmark (issue 3): `cmake --build build/dev --target bench_bundle`
# runs the 1 GiB one (prints, asserts nothing); ctest runs an 8 MiB smoke run (label bench) so
# the script cannot rot.
add_custom_target(bench_bundle
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_bundle.sh ${CMAKE_BINARY_DIR}/bin 1024
    DEPENDS otafleetctl USES_TERMINAL)
add_test(NAME bench_bundle_smoke
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_bundle.sh ${CMAKE_BINARY_DIR}/bin 8)
set_tests_properties(bench_bundle_smoke PROPERTIES LABELS bench TIMEOUT 120)
