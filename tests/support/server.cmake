# A real otafleetd process for integration tests (tests/support/ServerProcess.h).
target_sources(otafleet_testsupport PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/ServerProcess.cpp ${CMAKE_CURRENT_LIST_DIR}/ServerProcess.h)
