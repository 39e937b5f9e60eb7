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
