# The console's Station view over a real station run of two simulated units on ptys (issue 10);
# its tile model under QAbstractItemModelTester.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_stationview SOURCES tst_stationview.cpp
        ${CMAKE_SOURCE_DIR}/tests/integration/McuSimProcess.cpp
        LINK otafleet_ui otafleet_station otafleet_bundle otafleet_testsupport LABELS gui
        TIMEOUT 90)
    target_include_directories(tst_stationview PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration)
    add_dependencies(tst_stationview otafleetctl otafleet-mcusim)
endif()
