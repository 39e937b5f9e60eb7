# A real PostgreSQL server for the store's tests (tests/support/PostgresServer.h).
target_sources(otafleet_testsupport PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/PostgresServer.cpp ${CMAKE_CURRENT_LIST_DIR}/PostgresServer.h)
target_link_libraries(otafleet_testsupport PUBLIC Qt6::Sql)
