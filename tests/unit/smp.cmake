# MCUmgr SMP codec (issue 10): packets and CBOR against hand-written bytes, serial framing.
otafleet_add_test(NAME tst_smpcodec SOURCES tst_smpcodec.cpp LINK otafleet_smp LABELS unit)
otafleet_add_test(NAME tst_smpserial SOURCES tst_smpserial.cpp LINK otafleet_smp LABELS unit)
