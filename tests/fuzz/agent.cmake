# Fuzz target of the agent's configuration parser.
otafleet_add_fuzz_target(NAME fuzz_agent_config SOURCES fuzz_agent_config.cpp
    LINK otafleet_agentcore CORPUS corpus/agent_config)
