# A real otafleet-agent process for integration tests (tests/support/AgentProcess.h).
target_sources(otafleet_testsupport PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/AgentProcess.cpp ${CMAKE_CURRENT_LIST_DIR}/AgentProcess.h)
