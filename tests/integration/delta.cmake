# Delta updates end to end on a real agent (needs the otafleet-agent binary).
otafleet_add_test(NAME tst_delta SOURCES tst_delta.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 120)
add_dependencies(tst_delta otafleet-agent)
