# End-to-end through the otafleetctl binary against a real agent (lead's part).
otafleet_add_test(NAME tst_cli SOURCES tst_cli.cpp LINK otafleet_testsupport LABELS integration
                  TIMEOUT 300)
add_dependencies(tst_cli otafleetctl otafleet-agent)
