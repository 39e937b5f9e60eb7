# Rollouts: the device filter language, rollout plans and the engine (pure logic, injected clock).
otafleet_add_test(NAME tst_devicefilter SOURCES tst_devicefilter.cpp LINK otafleet_rollout
    LABELS unit)
otafleet_add_test(NAME tst_rolloutplan SOURCES tst_rolloutplan.cpp LINK otafleet_rollout
    LABELS unit)
otafleet_add_test(NAME tst_rolloutengine SOURCES tst_rolloutengine.cpp LINK otafleet_rollout
    LABELS unit)
otafleet_add_test(NAME tst_rolloutrestore SOURCES tst_rolloutrestore.cpp LINK otafleet_rollout
    LABELS unit)
