# Release-security attack suite (issue 3): every hostile bundle refused by a real otafleet-agent
# with its own code, the device untouched; CRL and threshold rows through otafleetctl.
otafleet_add_test(NAME tst_attacksuite SOURCES tst_attacksuite.cpp attack_bundles.h AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 120)
add_dependencies(tst_attacksuite otafleet-agent otafleetctl)
