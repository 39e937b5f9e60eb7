# otafleet-agent answering SMP over a real pty (issue 10): otafleetctl mcu against the agent, and a
# station run that flashes the agent and an otafleet-mcusim unit side by side.
otafleet_add_test(NAME tst_agentsmp SOURCES tst_agentsmp.cpp AgentTestBase.h McuSimProcess.cpp
    McuSimProcess.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 180)
add_dependencies(tst_agentsmp otafleet-agent otafleetctl otafleet-mcusim)
