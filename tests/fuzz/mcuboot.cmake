# Fuzz target of the MCUboot image parser (issue 3): header, TLV areas and verification.
otafleet_add_fuzz_target(NAME fuzz_mcuboot_tlv SOURCES fuzz_mcuboot_tlv.cpp
    LINK otafleet_bundle CORPUS corpus/mcuboot_tlv)
