# Console test helpers: signed bundles made with a TestPki (tests/support/TestBundles.h).
target_sources(otafleet_testsupport PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/TestBundles.cpp ${CMAKE_CURRENT_LIST_DIR}/TestBundles.h)
target_link_libraries(otafleet_testsupport PUBLIC otafleet_bundle)
