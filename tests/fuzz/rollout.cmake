# Fuzz targets of the rollout library: the filter expression of --filter/--target and the
# rollout plan (stored JSON and the option strings of rollout create) and the engine state
# otafleetd stores.
otafleet_add_fuzz_target(NAME fuzz_device_filter SOURCES fuzz_device_filter.cpp
    LINK otafleet_rollout CORPUS corpus/device_filter)
otafleet_add_fuzz_target(NAME fuzz_rollout_plan SOURCES fuzz_rollout_plan.cpp
    LINK otafleet_rollout CORPUS corpus/rollout_plan)
otafleet_add_fuzz_target(NAME fuzz_rollout_state SOURCES fuzz_rollout_state.cpp
    LINK otafleet_rollout CORPUS corpus/rollout_state)
otafleet_add_fuzz_target(NAME fuzz_rollout_status SOURCES fuzz_rollout_status.cpp
    LINK otafleet_rollout CORPUS corpus/rollout_status)
