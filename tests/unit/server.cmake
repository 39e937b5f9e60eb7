# otafleetd's repositories (users, audit chain, fleet devices, releases) on real SQLite files and
# on a PostgreSQL server the test starts itself.
otafleet_add_test(NAME tst_serverstore SOURCES tst_serverstore.cpp
    LINK otafleet_store otafleet_testsupport LABELS unit)
