# Crypto library: hashing, CMS signing/verification and the PKI, with PEM keys and real SoftHSM
# tokens (each test makes its own token directory through SOFTHSM2_CONF).
otafleet_add_test(NAME tst_sha256 SOURCES tst_sha256.cpp LINK otafleet_crypto LABELS unit)
otafleet_add_test(NAME tst_cms SOURCES tst_cms.cpp LINK otafleet_testsupport LABELS unit)
otafleet_add_test(NAME tst_pki SOURCES tst_pki.cpp LINK otafleet_testsupport LABELS unit)
otafleet_add_test(NAME tst_pkiissue SOURCES tst_pkiissue.cpp LINK otafleet_testsupport LABELS unit)
# Key types (P-256, P-384, RSA-PSS, Ed25519) x PEM files and SoftHSM tokens; RSA 3072 key
# generation makes it the slowest crypto unit test.
otafleet_add_test(NAME tst_keytypes SOURCES tst_keytypes.cpp LINK otafleet_testsupport
                  LABELS unit TIMEOUT 180)
