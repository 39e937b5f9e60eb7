# SMP over Bluetooth LE (issue 10): the GATT framing against hand-written packets, and the BLE
# transport end to end through the simulator's in-process GATT link (this machine has no radio).
otafleet_add_test(NAME tst_smpble SOURCES tst_smpble.cpp LINK otafleet_smp LABELS unit)
otafleet_add_test(NAME tst_bletransport SOURCES tst_bletransport.cpp
    LINK otafleet_smp otafleet_mcusim_core otafleet_bundle otafleet_crypto LABELS unit)
