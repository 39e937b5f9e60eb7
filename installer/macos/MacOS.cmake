# macOS disk image (DragNDrop), included by installer/CMakeLists.txt in a macOS build. Not built
# on Debian: the README ("Windows and macOS installers") says what building it needs.
#   cmake --build BUILD --target package      -> otafleet-VERSION-Darwin.dmg
# otafleet.app with the icon and the .otab document type, and a link to /Applications in the
# image to drag it onto.
set(CPACK_GENERATOR DragNDrop)
set(CPACK_COMPONENTS_ALL console)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DMG_VOLUME_NAME "otafleet ${OTAFLEET_VERSION}")
set(CPACK_DMG_FORMAT UDZO)
set(CPACK_PACKAGE_ICON ${CMAKE_CURRENT_SOURCE_DIR}/macos/otafleet.icns)
if(TARGET otafleet)
    set_target_properties(otafleet PROPERTIES
        MACOSX_BUNDLE ON
        MACOSX_BUNDLE_INFO_PLIST ${CMAKE_CURRENT_SOURCE_DIR}/macos/Info.plist.in
        MACOSX_BUNDLE_BUNDLE_NAME otafleet
        MACOSX_BUNDLE_GUI_IDENTIFIER org.otafleet.Console
        MACOSX_BUNDLE_BUNDLE_VERSION ${OTAFLEET_VERSION}
        MACOSX_BUNDLE_SHORT_VERSION_STRING ${OTAFLEET_VERSION}
        MACOSX_BUNDLE_ICON_FILE otafleet.icns)
    target_sources(otafleet PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/macos/otafleet.icns)
    set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/macos/otafleet.icns
                                PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
endif()
