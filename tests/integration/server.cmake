# otafleetd end to end on loopback: a PKI on a SoftHSM token, `otafleetd setup`, a real otafleetd
# process; the RBAC matrix with audit checks and tampering, bad input on every RPC, and staged
# rollouts driven by test devices over mutual TLS (RolloutTestDevice.h), kill -9 included.
foreach(test tst_serverrbac tst_serverinput tst_serverrollout)
    otafleet_add_test(NAME ${test} SOURCES ${test}.cpp ServerTestBase.h RolloutTestDevice.h
        LINK otafleet_testsupport otafleet_proto gRPC::grpc++ Qt6::Sql LABELS integration
        TIMEOUT 180)
    add_dependencies(${test} otafleetd otafleetctl)
endforeach()
# otafleetd with its store on a PostgreSQL server the test starts itself (skipped without one).
otafleet_add_test(NAME tst_serverpostgres SOURCES tst_serverpostgres.cpp ServerTestBase.h
    LINK otafleet_testsupport otafleet_proto gRPC::grpc++ Qt6::Sql LABELS integration
    TIMEOUT 180)
add_dependencies(tst_serverpostgres otafleetd otafleetctl)
# Fleet telemetry on a real otafleetd: events over device sessions, the report, the anomalies.
otafleet_add_test(NAME tst_servertelemetry SOURCES tst_servertelemetry.cpp ServerTestBase.h
    LINK otafleet_testsupport otafleet_proto gRPC::grpc++ LABELS integration TIMEOUT 180)
add_dependencies(tst_servertelemetry otafleetd otafleetctl)
# The agent's dial-out link against a real otafleetd: a real otafleet-agent process online and
# reconnecting after a server restart, `otafleetctl simulate --agents 50`, download resume by
# offset, and offers run through the agent's real install and settled after a reboot.
otafleet_add_test(NAME tst_serverlink SOURCES tst_serverlink.cpp ServerTestBase.h
    LINK otafleet_agentcore otafleet_testsupport otafleet_proto gRPC::grpc++ LABELS integration
    TIMEOUT 300)
add_dependencies(tst_serverlink otafleetd otafleetctl otafleet-agent)
# Pushback: a server that turns devices away (busy_backlog = 0) and a real device link that
# waits for its retry hint.
otafleet_add_test(NAME tst_serverpushback SOURCES tst_serverpushback.cpp ServerTestBase.h
    FleetTestSupport.h LINK otafleet_agentcore otafleet_testsupport otafleet_proto gRPC::grpc++
    LABELS integration TIMEOUT 180)
add_dependencies(tst_serverpushback otafleetd otafleetctl otafleet-agent)
# The fleet end to end: otafleetd, `otafleetctl simulate` with 200 devices and a real dialling
# otafleet-agent; rollouts that complete through a kill -9 (offered in paced steps), pause
# themselves, update a device.
otafleet_add_test(NAME tst_fleetrollout SOURCES tst_fleetrollout.cpp ServerTestBase.h
    FleetTestSupport.h LINK otafleet_testsupport otafleet_proto gRPC::grpc++ Qt6::Sql
    LABELS integration TIMEOUT 600)
add_dependencies(tst_fleetrollout otafleetd otafleetctl otafleet-agent)
# The console's fleet of an otafleetd (fleet::RemoteFleet) and its main window against a real
# otafleetd: the mirror, the connection shown, reconnecting after a restart, password sign-in.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_remotefleet SOURCES tst_remotefleet.cpp ServerTestBase.h
        FleetTestSupport.h LINK otafleet_ui otafleet_fleet otafleet_consoleclient
        otafleet_testsupport otafleet_proto gRPC::grpc++ LABELS integration TIMEOUT 180)
    add_dependencies(tst_remotefleet otafleetd otafleetctl)
    # The GUI thread keeps answering within 50 ms while otafleetd is stopped (SIGSTOP). Run
    # alone: the gap it measures must come from the console, not from other tests' load.
    otafleet_add_test(NAME tst_guistall SOURCES tst_guistall.cpp ServerTestBase.h
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.cpp
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.h
        LINK otafleet_ui otafleet_fleet otafleet_consoleclient otafleet_testsupport
        otafleet_proto gRPC::grpc++ LABELS integration gui TIMEOUT 120)
    target_include_directories(tst_guistall PRIVATE ${PROJECT_SOURCE_DIR}/app/otafleet)
    set_tests_properties(tst_guistall PROPERTIES RUN_SERIAL ON)
    add_dependencies(tst_guistall otafleetd)
endif()
# The console's server window (app/otafleet/ServerWindows, compiled in) against a real otafleetd,
# offscreen: the rollout wizard, an approval by a second user, the monitor through pause and
# resume, the telemetry tab against the server's figures, a viewer's disabled commands, a stopped
# server's error.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_remoterollouts SOURCES tst_remoterollouts.cpp ServerTestBase.h
        FleetTestSupport.h RolloutTestDevice.h
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.cpp
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.h
        LINK otafleet_ui otafleet_fleet otafleet_consoleclient otafleet_testsupport
        otafleet_proto gRPC::grpc++ LABELS integration TIMEOUT 180)
    target_include_directories(tst_remoterollouts PRIVATE ${PROJECT_SOURCE_DIR}/app/otafleet)
    add_dependencies(tst_remoterollouts otafleetd otafleetctl)
endif()
# The console's audit view and user management against a real otafleetd (ServerWindows,
# offscreen): the server's log filtered and verified (a row altered in its SQLite file named), an
# admin adding a user and changing their role, a viewer's actions disabled and refused.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_remoteadmin SOURCES tst_remoteadmin.cpp ServerTestBase.h
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.cpp
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.h
        LINK otafleet_ui otafleet_fleet otafleet_consoleclient otafleet_testsupport
        otafleet_proto gRPC::grpc++ Qt6::Sql LABELS integration gui TIMEOUT 120)
    target_include_directories(tst_remoteadmin PRIVATE ${PROJECT_SOURCE_DIR}/app/otafleet)
    add_dependencies(tst_remoteadmin otafleetd otafleetctl)
endif()
# The console's paged device list on a real otafleetd: server-side order and search, the model
# tester, bulk tag and decommission through the server's RPCs in the real window, a viewer's
# disabled bulk actions.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_remotedevicepages SOURCES tst_remotedevicepages.cpp
        ServerTestBase.h LINK otafleet_ui otafleet_fleet otafleet_consoleclient
        otafleet_testsupport otafleet_proto gRPC::grpc++ LABELS integration gui TIMEOUT 180)
    add_dependencies(tst_remotedevicepages otafleetd)
endif()
# The Releases tab of a server window against a real otafleetd: a release manager imports
# (uploads) and revokes; a viewer's commands are disabled with the reason.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_remotereleases SOURCES tst_remotereleases.cpp ServerTestBase.h
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.cpp
        ${PROJECT_SOURCE_DIR}/app/otafleet/ServerWindows.h
        LINK otafleet_ui otafleet_fleet otafleet_consoleclient otafleet_testsupport
        otafleet_proto gRPC::grpc++ LABELS integration gui TIMEOUT 120)
    target_include_directories(tst_remotereleases PRIVATE ${PROJECT_SOURCE_DIR}/app/otafleet)
    add_dependencies(tst_remotereleases otafleetd)
endif()
