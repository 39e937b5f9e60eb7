# EmbeddedFleet end to end: real agents on loopback, the real LAN plugin, a real SQLite store.
otafleet_add_test(NAME tst_embeddedfleet SOURCES tst_embeddedfleet.cpp
    LINK otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
    LABELS integration TIMEOUT 180)
add_dependencies(tst_embeddedfleet otafleet_lan otafleet-agent)
# Embedded-mode rollouts: the engine driving real agents through EmbeddedFleet, state in SQLite.
otafleet_add_test(NAME tst_embeddedrollouts SOURCES tst_embeddedrollouts.cpp
    LINK otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
    LABELS integration TIMEOUT 120)
add_dependencies(tst_embeddedrollouts otafleet_lan otafleet_udp otafleet-agent)
# The GUI thread keeps answering within 50 ms while the HSM is stopped: the release keys' SoftHSM
# token served by `p11-kit server` in its own process (SIGSTOP), reached through p11-kit's client
# module. Run alone: the gaps it measures must come from the console, not other tests' load.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_tokenstall SOURCES tst_tokenstall.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_bundle
            otafleet_crypto otafleet_testsupport
        LABELS integration gui TIMEOUT 120)
    set_tests_properties(tst_tokenstall PROPERTIES RUN_SERIAL ON)
endif()
