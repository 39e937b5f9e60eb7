# MCUboot image signing and verification, with a PEM key and a SoftHSM token key.
otafleet_add_test(NAME tst_mcuboot SOURCES tst_mcuboot.cpp
    LINK otafleet_bundle otafleet_testsupport LABELS unit TIMEOUT 180)
# commandLineWithTokenSigner runs the real otafleetctl.
add_dependencies(tst_mcuboot otafleetctl)
