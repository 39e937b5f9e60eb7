# Shared test helpers (SoftHSM token directories, ready-made PKIs). Other module owners add their
# helpers with target_sources(otafleet_testsupport PRIVATE ...) in their own part file.
add_library(otafleet_testsupport STATIC
    ${CMAKE_CURRENT_LIST_DIR}/SoftHsmEnvironment.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SoftHsmEnvironment.h
    ${CMAKE_CURRENT_LIST_DIR}/TestPki.cpp
    ${CMAKE_CURRENT_LIST_DIR}/TestPki.h
    ${CMAKE_CURRENT_LIST_DIR}/ProcessRun.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ProcessRun.h)
target_include_directories(otafleet_testsupport PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(otafleet_testsupport PUBLIC otafleet_crypto Qt6::Test)
otafleet_strict(otafleet_testsupport)
