# otafleetctl pki issue/revoke/crl/export-public/list through the real binary (PEM PKI, plus one
# run with a SoftHSM token), and revocation and two-person signing checked end to end through
# the bundle library.
otafleet_add_test(NAME tst_pkicli SOURCES tst_pkicli.cpp
                  LINK otafleet_testsupport otafleet_bundle LABELS integration TIMEOUT 120)
add_dependencies(tst_pkicli otafleetctl)
# Key types (--key-type) through the real binary: PEM and SoftHSM PKIs, mixed-type two-person
# signing with `bundle sign` / `bundle verify --threshold 2`, Ed25519 bundles pushed to an agent.
otafleet_add_test(NAME tst_pkikeytypescli SOURCES tst_pkikeytypescli.cpp
                  LINK otafleet_testsupport otafleet_bundle LABELS integration TIMEOUT 180)
add_dependencies(tst_pkikeytypescli otafleetctl otafleet-agent)
