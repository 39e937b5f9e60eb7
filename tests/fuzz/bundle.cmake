# Fuzz targets of the bundle owner: the manifest parser, the container frame, and CMS verification.
otafleet_add_fuzz_target(NAME fuzz_manifest SOURCES fuzz_manifest.cpp
    LINK otafleet_bundle CORPUS corpus/manifest)
otafleet_add_fuzz_target(NAME fuzz_bundle_container SOURCES fuzz_bundle_container.cpp
    LINK otafleet_bundle CORPUS corpus/bundle_container)
otafleet_add_fuzz_target(NAME fuzz_cms SOURCES fuzz_cms.cpp
    LINK otafleet_crypto CORPUS corpus/cms)
otafleet_add_fuzz_target(NAME fuzz_payload_decoder SOURCES fuzz_payload_decoder.cpp
    LINK otafleet_bundle CORPUS corpus/payload_decoder)
otafleet_add_fuzz_target(NAME fuzz_delta_patch SOURCES fuzz_delta_patch.cpp
    LINK otafleet_bundle CORPUS corpus/delta_patch)
