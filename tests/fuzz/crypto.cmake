# Fuzz targets of the crypto owner: key reference URIs, X.509 certificate parsing and PKCS#10
# requests (pki issue --csr). (CMS verification is fuzzed by the bundle owner's fuzz_cms.)
otafleet_add_fuzz_target(NAME fuzz_pkcs11_uri SOURCES fuzz_pkcs11_uri.cpp
    LINK otafleet_crypto CORPUS corpus/pkcs11_uri)
otafleet_add_fuzz_target(NAME fuzz_certificate SOURCES fuzz_certificate.cpp
    LINK otafleet_crypto CORPUS corpus/certificate)
otafleet_add_fuzz_target(NAME fuzz_csr SOURCES fuzz_csr.cpp
    LINK otafleet_crypto CORPUS corpus/csr)
