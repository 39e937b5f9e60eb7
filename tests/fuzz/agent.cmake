# Fuzz target of the agent's configuration parser.
otafleet_add_fuzz_target(NAME fuzz_agent_config SOURCES fuzz_agent_config.cpp
    LINK otafleet_agentcore CORPUS corpus/agent_config)
# Fuzz target of the agent's telemetry queue (segment files on disk).
otafleet_add_fuzz_target(NAME fuzz_event_queue SOURCES fuzz_event_queue.cpp
    LINK otafleet_agentcore CORPUS corpus/event_queue)
