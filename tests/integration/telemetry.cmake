# Telemetry end to end: a real agent's events through `otafleetctl device events`, across kill -9.
otafleet_add_test(NAME tst_telemetry SOURCES tst_telemetry.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_bundle otafleet_crypto otafleet_testsupport
    LABELS integration TIMEOUT 120)
add_dependencies(tst_telemetry otafleet-agent otafleetctl)
# The console's fleet pulls telemetry into its SQLite store on refresh (real agent, LAN plugin).
otafleet_add_test(NAME tst_fleettelemetry SOURCES tst_fleettelemetry.cpp
    LINK otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
    LABELS integration TIMEOUT 120)
add_dependencies(tst_fleettelemetry otafleet_lan otafleet-agent otafleetctl)
