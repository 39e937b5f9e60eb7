# Fuzz targets of the rollout library: the filter expression of --filter/--target.
otafleet_add_fuzz_target(NAME fuzz_device_filter SOURCES fuzz_device_filter.cpp
    LINK otafleet_rollout CORPUS corpus/device_filter)
