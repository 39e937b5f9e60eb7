# The factory station's records (issue 10): summary, JSON/CSV export, the bounded import, the
# SQLite store's merge, and the provisioning group's request and response bodies.
otafleet_add_test(NAME tst_stationrecords SOURCES tst_stationrecords.cpp
    LINK otafleet_station otafleet_smp LABELS unit)
