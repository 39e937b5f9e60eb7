# The ble transport plugin and `otafleetctl mcu ... --ble` on a machine without a Bluetooth
# radio: found by metadata, loaded, and failing cleanly with ble.no-adapter (issue 10).
otafleet_add_test(NAME tst_mcuble SOURCES tst_mcuble.cpp
    LINK otafleet_testsupport otafleet_link LABELS integration TIMEOUT 120)
add_dependencies(tst_mcuble otafleetctl otafleet_ble)
