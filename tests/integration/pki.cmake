# otafleetctl pki issue/revoke/crl/export-public/list through the real binary (PEM PKI, plus one
# run with a SoftHSM token), and revocation and two-person signing checked end to end through
# the bundle library.
otafleet_add_test(NAME tst_pkicli SOURCES tst_pkicli.cpp
                  LINK otafleet_testsupport otafleet_bundle LABELS integration TIMEOUT 120)
add_dependencies(tst_pkicli otafleetctl)
