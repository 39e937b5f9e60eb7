# TCP fault proxy for network-trouble tests (tests/support/FaultProxy.h).
target_sources(otafleet_testsupport PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/FaultProxy.cpp ${CMAKE_CURRENT_LIST_DIR}/FaultProxy.h)
