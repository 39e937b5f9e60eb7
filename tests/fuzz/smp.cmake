# Fuzz targets of the SMP codec (issue 10): the packet decoder and the serial de-framer.
otafleet_add_fuzz_target(NAME fuzz_smp_packet SOURCES fuzz_smp_packet.cpp
    LINK otafleet_smp CORPUS corpus/smp_packet)
otafleet_add_fuzz_target(NAME fuzz_smp_serial SOURCES fuzz_smp_serial.cpp
    LINK otafleet_smp CORPUS corpus/smp_serial)
# The device side: smp::respond over the simulator's device (what otafleet-agent serves too).
otafleet_add_fuzz_target(NAME fuzz_smp_responder SOURCES fuzz_smp_responder.cpp
    LINK otafleet_mcusim_core CORPUS corpus/smp_responder)
