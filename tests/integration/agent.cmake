# otafleet-agent end to end over loopback (real agent processes; needs the otafleet-agent binary).
foreach(test tst_agent tst_agentsecurity)
    otafleet_add_test(NAME ${test} SOURCES ${test}.cpp AgentTestBase.h
        LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
        LABELS integration TIMEOUT 180)
    add_dependencies(${test} otafleet-agent)
endforeach()
