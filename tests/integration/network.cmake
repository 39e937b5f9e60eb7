# Network trouble between console and agent: a fault proxy drops, stalls, trickles and refuses
# connections of real pushes (tests/support/FaultProxy.h).
otafleet_add_test(NAME tst_networkfaults SOURCES tst_networkfaults.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 120)
add_dependencies(tst_networkfaults otafleet-agent)
