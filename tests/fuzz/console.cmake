# Fuzz targets of the console layers: device addresses typed by people, device reports read back
# from the fleet database.
otafleet_add_fuzz_target(NAME fuzz_device_address SOURCES fuzz_device_address.cpp
    LINK otafleet_link CORPUS corpus/device_address)
otafleet_add_fuzz_target(NAME fuzz_device_snapshot SOURCES fuzz_device_snapshot.cpp
    LINK otafleet_link CORPUS corpus/device_snapshot)
