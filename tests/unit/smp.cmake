# MCUmgr SMP codec (issue 10): packets and CBOR against hand-written bytes, serial framing.
otafleet_add_test(NAME tst_smpcodec SOURCES tst_smpcodec.cpp LINK otafleet_smp LABELS unit)
otafleet_add_test(NAME tst_smpserial SOURCES tst_smpserial.cpp LINK otafleet_smp LABELS unit)
# The uploader's pipelining, loss recovery and resume against the simulator's device in-process.
otafleet_add_test(NAME tst_imageuploader SOURCES tst_imageuploader.cpp
    LINK otafleet_smp otafleet_mcusim_core otafleet_bundle otafleet_crypto LABELS unit)
