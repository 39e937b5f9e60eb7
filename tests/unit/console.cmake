# Console layers: fleet store (SQLite), device hub + LAN plugin metadata, device table model.
otafleet_add_test(NAME tst_fleetstore SOURCES tst_fleetstore.cpp
    LINK otafleet_store LABELS unit)
otafleet_add_test(NAME tst_devicehub SOURCES tst_devicehub.cpp
    LINK otafleet_link otafleet_testsupport Qt6::Network LABELS unit)
add_dependencies(tst_devicehub otafleet_lan)
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_devicetablemodel SOURCES tst_devicetablemodel.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link LABELS unit)
    add_dependencies(tst_devicetablemodel otafleet_lan)
endif()
# What the console shows before a push: bundle reports and verdicts (fleet::inspectBundle).
otafleet_add_test(NAME tst_bundleinspection SOURCES tst_bundleinspection.cpp
    LINK otafleet_fleet otafleet_store otafleet_link otafleet_testsupport LABELS unit)
# Dashboard figures and device filter expressions over FleetDevice values (no store, no links).
otafleet_add_test(NAME tst_fleetsummary SOURCES tst_fleetsummary.cpp
    LINK otafleet_fleet otafleet_testsupport LABELS unit)
# The approval rule of fleet::RolloutService (who may approve which rollout), as plain values.
otafleet_add_test(NAME tst_rolloutservice SOURCES tst_rolloutservice.cpp
    LINK otafleet_fleet LABELS unit)
# The rollouts table model over real EmbeddedRollouts, checked by QAbstractItemModelTester.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_rollouttablemodel SOURCES tst_rollouttablemodel.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
        LABELS unit)
    add_dependencies(tst_rollouttablemodel otafleet_lan)
endif()
# The telemetry charts' arithmetic (fleet/TelemetryReport.h) and the rollout history it replays.
otafleet_add_test(NAME tst_telemetryreport SOURCES tst_telemetryreport.cpp
    LINK otafleet_fleet otafleet_store LABELS unit)
# The audit view's filter, its paging loop and its export, as plain values.
otafleet_add_test(NAME tst_auditfilter SOURCES tst_auditfilter.cpp LINK otafleet_fleet LABELS unit)
