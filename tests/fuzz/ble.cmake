# Fuzz target of SMP over Bluetooth LE (issue 10): notification reassembly.
otafleet_add_fuzz_target(NAME fuzz_smp_ble SOURCES fuzz_smp_ble.cpp
    LINK otafleet_smp CORPUS corpus/smp_ble)
