# The console's main window driven like a technician would, against a real agent.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_mainwindow SOURCES tst_mainwindow.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
        LABELS gui TIMEOUT 120)
    add_dependencies(tst_mainwindow otafleet_lan otafleet-agent)
endif()
# The token PIN dialog on its own: masked, handed out once, wiped after use or cancel.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_pindialog SOURCES tst_pindialog.cpp LINK otafleet_ui LABELS gui)
endif()
# Opening a .otab from the desktop: the console shows that bundle's report (MainWindow).
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_openbundle SOURCES tst_openbundle.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
        LABELS gui TIMEOUT 60)
endif()
# The dashboard's figures and bar chart against three real agents; bars filter the device list.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_dashboard SOURCES tst_dashboard.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
            Qt6::Network
        LABELS gui TIMEOUT 120)
    add_dependencies(tst_dashboard otafleet_lan otafleet-agent)
endif()
# The rollout wizard, approval inbox and monitor in MainWindow over an EmbeddedFleet on a temp
# SQLite store: create, approve and start a production rollout, watch it pause on a failing wave.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_rolloutwizard SOURCES tst_rolloutwizard.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link LABELS gui TIMEOUT 60)
    add_dependencies(tst_rolloutwizard otafleet_lan)
endif()
# The telemetry charts over an EmbeddedFleet on a temp SQLite store with seeded agent telemetry and
# a rollout the engine paused: plotted data against the store, PNG/PDF/CSV export, zoom, hover.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_telemetryview SOURCES tst_telemetryview.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link LABELS gui TIMEOUT 60)
    add_dependencies(tst_telemetryview otafleet_lan)
endif()
# Every main view rendered to PNG under Xvfb by the script the README's images come from.
if(TARGET otafleet_ui)
    add_test(NAME render_views
        COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/render_views.sh
            ${CMAKE_BINARY_DIR}/bin/otafleet ${CMAKE_CURRENT_BINARY_DIR}/rendered-views)
    set_tests_properties(render_views PROPERTIES LABELS gui TIMEOUT 120)
endif()
# "Connect to server…": checks what is typed, hands a complete sign-in to the window, keeps
# recent connections without passwords.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_connectdialog SOURCES tst_connectdialog.cpp LINK otafleet_ui
        LABELS gui TIMEOUT 60)
endif()
# The audit log, users and notifications (Security menu) over an EmbeddedFleet on a temp SQLite
# store: fleet changes audited, filters, chain verification naming a row altered in the file,
# export, the embedded Users sentence, a notice when a rollout pauses itself.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_auditview SOURCES tst_auditview.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link Qt6::Sql LABELS gui TIMEOUT 60)
    add_dependencies(tst_auditview otafleet_lan)
endif()
# A real agent whose slot was altered: its tamper report becomes a notice and a log row.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_tampernotice SOURCES tst_tampernotice.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_testsupport
        LABELS gui TIMEOUT 60)
    add_dependencies(tst_tampernotice otafleet_lan otafleet-agent)
endif()
# The paged device table over a generated 200,000-device SQLite fleet: model tester, filter and
# sort against hand-written SQL, scrolling, bulk changes with cancel.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_pageddevicemodel SOURCES tst_pageddevicemodel.cpp
        LINK otafleet_ui otafleet_fleet otafleet_testsupport Qt6::Sql LABELS gui TIMEOUT 120)
endif()
# The Releases tab over an EmbeddedFleet with release keys in a SoftHSM token: import and verdict,
# create and sign through the PIN dialog (wrong and right PIN), two-person signing, Cancel,
# notes, revoke.
if(TARGET otafleet_ui)
    otafleet_add_test(NAME tst_releasesview SOURCES tst_releasesview.cpp
        LINK otafleet_ui otafleet_fleet otafleet_store otafleet_link otafleet_bundle
            otafleet_crypto otafleet_testsupport
        LABELS gui TIMEOUT 120)
    add_dependencies(tst_releasesview otafleetctl)
endif()
