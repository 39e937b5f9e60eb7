# Large generated fleets for the paged device table's tests and the console benchmark
# (tests/support/GeneratedFleet.h).
target_sources(otafleet_testsupport PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/GeneratedFleet.cpp ${CMAKE_CURRENT_LIST_DIR}/GeneratedFleet.h)
target_link_libraries(otafleet_testsupport PUBLIC otafleet_store)
