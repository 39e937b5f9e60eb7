# Unit tests of the bundle library: manifest parsing, container framing, create/sign/verify.
otafleet_add_test(NAME tst_manifest SOURCES tst_manifest.cpp LINK otafleet_bundle LABELS unit)
otafleet_add_test(NAME tst_bundle SOURCES tst_bundle.cpp
    LINK otafleet_bundle otafleet_testsupport LABELS unit TIMEOUT 180)
otafleet_add_test(NAME tst_payloaddecoder SOURCES tst_payloaddecoder.cpp LINK otafleet_bundle
    LABELS unit)
otafleet_add_test(NAME tst_deltabundle SOURCES tst_deltabundle.cpp LINK otafleet_bundle
    LABELS unit)
otafleet_add_test(NAME tst_bundleframe SOURCES tst_bundleframe.cpp
    LINK otafleet_bundle otafleet_testsupport LABELS unit)
