# otafleetd's repositories (users, audit chain, fleet devices, releases) on real SQLite files.
otafleet_add_test(NAME tst_serverstore SOURCES tst_serverstore.cpp
    LINK otafleet_store LABELS unit)
