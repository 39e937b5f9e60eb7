# otafleetd end to end on loopback: a PKI on a SoftHSM token, `otafleetd setup`, a real otafleetd
# process; the RBAC matrix with audit checks and tampering, and bad input on every RPC.
foreach(test tst_serverrbac tst_serverinput)
    otafleet_add_test(NAME ${test} SOURCES ${test}.cpp ServerTestBase.h
        LINK otafleet_testsupport otafleet_proto gRPC::grpc++ Qt6::Sql LABELS integration
        TIMEOUT 180)
    add_dependencies(${test} otafleetd otafleetctl)
endforeach()
# The agent's dial-out link against a real otafleetd: a real otafleet-agent process online and
# reconnecting after a server restart, `otafleetctl simulate --agents 50`, download resume by
# offset, and offers run through the agent's real install and settled after a reboot.
otafleet_add_test(NAME tst_serverlink SOURCES tst_serverlink.cpp ServerTestBase.h
    LINK otafleet_agentcore otafleet_testsupport otafleet_proto gRPC::grpc++ LABELS integration
    TIMEOUT 300)
add_dependencies(tst_serverlink otafleetd otafleetctl otafleet-agent)
