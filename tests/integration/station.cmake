# The factory station (issue 10): otafleetctl station run over eight otafleet-mcusim processes on
# real ptys with a device CA in a SoftHSM token, then report, export and import.
otafleet_add_test(NAME tst_station SOURCES tst_station.cpp McuSimProcess.cpp McuSimProcess.h
    LINK otafleet_testsupport otafleet_crypto LABELS integration TIMEOUT 180)
add_dependencies(tst_station otafleetctl otafleet-mcusim)
