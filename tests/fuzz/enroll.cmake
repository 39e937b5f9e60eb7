# Fuzz target of device enrolment: the station's request parser and checks (the CSR parser on
# its own is fuzz_csr).
otafleet_add_fuzz_target(NAME fuzz_enroll_request SOURCES fuzz_enroll_request.cpp
    LINK otafleet_enroll CORPUS corpus/enroll_request)
