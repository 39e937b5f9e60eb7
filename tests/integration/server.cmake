# otafleetd end to end on loopback: a PKI on a SoftHSM token, `otafleetd setup`, a real otafleetd
# process; the RBAC matrix with audit checks and tampering, bad input on every RPC, and staged
# rollouts driven by test devices over mutual TLS (RolloutTestDevice.h), kill -9 included.
foreach(test tst_serverrbac tst_serverinput tst_serverrollout)
    otafleet_add_test(NAME ${test} SOURCES ${test}.cpp ServerTestBase.h RolloutTestDevice.h
        LINK otafleet_testsupport otafleet_proto gRPC::grpc++ Qt6::Sql LABELS integration
        TIMEOUT 180)
    add_dependencies(${test} otafleetd otafleetctl)
endforeach()
