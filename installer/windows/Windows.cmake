# Windows installer (NSIS), included by installer/CMakeLists.txt in a Windows build. Not built
# on Debian: the README ("Windows and macOS installers") says what building it needs.
#   cmake --build BUILD --target package      -> otafleet-VERSION-win64.exe (and a ZIP)
# Start-menu entry for the console, the icon, and .otab opening in the console's bundle report
# (the shell passes the file as the first argument: otafleet.exe FILE).
set(CPACK_GENERATOR NSIS ZIP)
# The console, otafleetctl and the plugins; the agent and otafleetd are Linux services.
set(CPACK_COMPONENTS_ALL console)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_PACKAGE_INSTALL_DIRECTORY otafleet)
set(CPACK_PACKAGE_EXECUTABLES otafleet otafleet)  # the Start-menu shortcut
set(CPACK_NSIS_PACKAGE_NAME "otafleet ${OTAFLEET_VERSION}")
set(CPACK_NSIS_DISPLAY_NAME otafleet)
set(CPACK_NSIS_MUI_ICON ${CMAKE_CURRENT_SOURCE_DIR}/windows/otafleet.ico)
set(CPACK_NSIS_MUI_UNIICON ${CMAKE_CURRENT_SOURCE_DIR}/windows/otafleet.ico)
set(CPACK_NSIS_INSTALLED_ICON_NAME "share\\\\otafleet\\\\otafleet.ico")
set(CPACK_NSIS_URL_INFO_ABOUT "${PROJECT_HOMEPAGE_URL}")
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MODIFY_PATH ON)  # offers to put otafleetctl on PATH
install(FILES windows/otafleet.ico DESTINATION share/otafleet COMPONENT console)
# .otab -> otafleet.bundle -> otafleet.exe "%1", with the icon; removed again on uninstall.
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS [=[
  WriteRegStr HKCR ".otab" "" "otafleet.bundle"
  WriteRegStr HKCR ".otab" "Content Type" "application/x-otafleet-bundle"
  WriteRegStr HKCR "otafleet.bundle" "" "otafleet update bundle"
  WriteRegStr HKCR "otafleet.bundle\DefaultIcon" "" "$INSTDIR\share\otafleet\otafleet.ico"
  WriteRegStr HKCR "otafleet.bundle\shell\open\command" "" '"$INSTDIR\bin\otafleet.exe" "%1"'
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
]=])
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS [=[
  DeleteRegKey HKCR ".otab"
  DeleteRegKey HKCR "otafleet.bundle"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
]=])
