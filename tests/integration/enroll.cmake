# Device enrolment: a real station (otafleetctl pki station), real agents enrolling and serving
# with their device certificate, refusals (token, CSR subject, expired, revoked), a SoftHSM key.
otafleet_add_test(NAME tst_enrollment SOURCES tst_enrollment.cpp AgentTestBase.h
    LINK otafleet_agentclient otafleet_agentcore otafleet_bundle otafleet_crypto otafleet_enroll
         otafleet_testsupport gRPC::grpc++
    LABELS integration TIMEOUT 120)
add_dependencies(tst_enrollment otafleet-agent otafleetctl)
