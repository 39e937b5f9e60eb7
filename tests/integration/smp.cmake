# MCU devices over SMP (issue 10): otafleet-mcusim on real ptys and UDP sockets, driven by
# otafleetctl mcu and the SMP client library.
otafleet_add_test(NAME tst_mcusim SOURCES tst_mcusim.cpp McuSimProcess.cpp McuSimProcess.h
    LINK otafleet_testsupport otafleet_smp LABELS integration TIMEOUT 180)
add_dependencies(tst_mcusim otafleetctl otafleet-mcusim)
# The serial and udp transport plugins through DeviceHub, against the same simulator.
otafleet_add_test(NAME tst_mculinks SOURCES tst_mculinks.cpp McuSimProcess.cpp McuSimProcess.h
    LINK otafleet_testsupport otafleet_link LABELS integration TIMEOUT 120)
add_dependencies(tst_mculinks otafleetctl otafleet-mcusim otafleet_serial otafleet_udp)
