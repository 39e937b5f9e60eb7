# Telemetry: the agent's bounded, durable event queue.
otafleet_add_test(NAME tst_eventqueue SOURCES tst_eventqueue.cpp LINK otafleet_agentcore LABELS unit)
