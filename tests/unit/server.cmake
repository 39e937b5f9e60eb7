# otafleetd's repositories (users, audit chain, fleet devices, releases) on real SQLite files and
# on a PostgreSQL server the test starts itself.
otafleet_add_test(NAME tst_serverstore SOURCES tst_serverstore.cpp
    LINK otafleet_store otafleet_testsupport LABELS unit)
# The device filter translated to SQL (server/FleetDeviceSql.h): the database selects exactly what
# DeviceFilter::matches() accepts (or a superset where it cannot tell), on a real SQLite file.
otafleet_add_test(NAME tst_fleetdevicesql SOURCES tst_fleetdevicesql.cpp
    LINK otafleet_server otafleet_testsupport LABELS unit)
# otafleetd's StoreWorker: telemetry and session state written in batches, all of it at stop.
otafleet_add_test(NAME tst_storeworker SOURCES tst_storeworker.cpp
    LINK otafleet_server otafleet_testsupport LABELS unit)
