# otafleet-agent end to end over loopback (real agent processes; needs the otafleet-agent binary).
foreach(test tst_agent tst_agentsecurity tst_agentbackends)
    otafleet_add_test(NAME ${test} SOURCES ${test}.cpp AgentTestBase.h
        LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
        LABELS integration TIMEOUT 180)
    add_dependencies(${test} otafleet-agent)
endforeach()
target_link_libraries(tst_agentsecurity PRIVATE Qt6::Network)  # a silent TLS peer
target_link_libraries(tst_agent PRIVATE Qt6::Network)  # a host the health check needs
add_dependencies(tst_agentsecurity otafleetctl)
# Fault-injection sweep (kill -9 at every crash point, three boot backends) and the full-disk
# install; drives `otafleet-agent offline`, no gRPC.
otafleet_add_test(NAME tst_faultsweep SOURCES tst_faultsweep.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 900)
# About 2 minutes on an idle 2-core machine, but each kill point restarts the agent, so a loaded
# machine stretches it: one backend alone can pass Qt's 5-minute function limit at load 9.
set_property(TEST tst_faultsweep APPEND PROPERTY ENVIRONMENT QTEST_FUNCTION_TIMEOUT=600000)
add_dependencies(tst_faultsweep otafleet-agent)
# Revocation: CRLs installed by setup refuse revoked release signers and operators.
otafleet_add_test(NAME tst_agentrevocation SOURCES tst_agentrevocation.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 180)
add_dependencies(tst_agentrevocation otafleet-agent)
# The agent core in-process: concurrent operations.
otafleet_add_test(NAME tst_agentoperations SOURCES tst_agentoperations.cpp AgentTestBase.h
    LINK otafleet_agentcore otafleet_agentclient otafleet_bundle otafleet_crypto
         otafleet_testsupport
    LABELS integration TIMEOUT 120)
# TLS 1.3 only: the agent and the enrolment station against `openssl s_client -tls1_2/-tls1_3`.
otafleet_add_test(NAME tst_tlspolicy SOURCES tst_tlspolicy.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 60)
add_dependencies(tst_tlspolicy otafleet-agent otafleetctl otafleetd)
# Resume and continue: `otafleetctl device push` re-run after an interruption at each phase, and
# another release that waits (push.other-release-pending, --replace-pending).
otafleet_add_test(NAME tst_pushresume SOURCES tst_pushresume.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 180)
add_dependencies(tst_pushresume otafleet-agent otafleetctl)
