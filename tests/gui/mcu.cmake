# The console's MCU-class devices (issue 10): serial hot-plug, the image slot pane, Update… with
# an MCUboot image, UDP by address, the BLE scan dialog, against real otafleet-mcusim processes
# on real ptys and UDP sockets through the real serial and udp plugins; its models under
# QAbstractItemModelTester.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_mcuconsole SOURCES tst_mcuconsole.cpp
        ${CMAKE_SOURCE_DIR}/tests/integration/McuSimProcess.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_mcusim_core
            otafleet_testsupport
        LABELS gui TIMEOUT 150)
    target_include_directories(tst_mcuconsole PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration)
    add_dependencies(tst_mcuconsole otafleetctl otafleet-mcusim otafleet_serial otafleet_udp
        otafleet_ble)
endif()
