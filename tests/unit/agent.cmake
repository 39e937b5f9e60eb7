# Agent core unit tests.
otafleet_add_test(NAME tst_agentconfig SOURCES tst_agentconfig.cpp LINK otafleet_agentcore LABELS unit)
otafleet_add_test(NAME tst_bootcontrol SOURCES tst_bootcontrol.cpp LINK otafleet_agentcore LABELS unit)
otafleet_add_test(NAME tst_uploadstore SOURCES tst_uploadstore.cpp LINK otafleet_agentcore LABELS unit)
otafleet_add_test(NAME tst_bootbackends SOURCES tst_bootbackends.cpp LINK otafleet_agentcore LABELS unit)
otafleet_add_test(NAME tst_healthchecks SOURCES tst_healthchecks.cpp
    LINK otafleet_agentcore Qt6::Network LABELS unit)
