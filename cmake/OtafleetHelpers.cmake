# Helpers that give every otafleet target the same compile rules, so that a rule changes in one place.

# Strict Qt and compiler settings for first-party code (never for generated protobuf code).
function(otafleet_strict target)
    target_compile_definitions(${target} PRIVATE
        QT_NO_KEYWORDS QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_CONTEXTLESS_CONNECT
        QT_NO_URL_CAST_FROM_STRING QT_NO_CAST_FROM_BYTEARRAY QT_NO_FOREACH
        QT_DISABLE_DEPRECATED_UP_TO=0x060400
        OPENSSL_API_COMPAT=30000 OPENSSL_NO_DEPRECATED)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
        -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough
        $<$<BOOL:${OTAFLEET_WERROR}>:-Werror>)
endfunction()

# otafleet_add_library(NAME <target> SOURCES ... [PUBLIC_LINK ...] [PRIVATE_LINK ...])
# A static services library; its folder's parent is the include root so code writes
# #include "bundle/Manifest.h".
function(otafleet_add_library)
    cmake_parse_arguments(ARG "" "NAME" "SOURCES;PUBLIC_LINK;PRIVATE_LINK" ${ARGN})
    add_library(${ARG_NAME} STATIC ${ARG_SOURCES})
    target_include_directories(${ARG_NAME} PUBLIC ${CMAKE_SOURCE_DIR}/services)
    target_link_libraries(${ARG_NAME} PUBLIC ${ARG_PUBLIC_LINK} PRIVATE ${ARG_PRIVATE_LINK})
    otafleet_strict(${ARG_NAME})
endfunction()

# otafleet_add_plugin(NAME <target> CLASS <plugin class> TRANSPORT <name> SCHEME <scheme>
#                     CAPABILITIES a b ...
#                     SOURCES ... [LINK ...])
# Builds a transport plugin and writes its metadata JSON from the same arguments, so the
# metadata the hub reads before loading can never disagree with what was built.
function(otafleet_add_plugin)
    cmake_parse_arguments(ARG "" "NAME;TRANSPORT;SCHEME;CLASS" "CAPABILITIES;SOURCES;LINK" ${ARGN})
    list(TRANSFORM ARG_CAPABILITIES PREPEND "\"" OUTPUT_VARIABLE caps)
    list(TRANSFORM caps APPEND "\"")
    list(JOIN caps ", " caps)
    set(meta ${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}.json)
    file(GENERATE OUTPUT ${meta} CONTENT
"{\n  \"transport\": \"${ARG_TRANSPORT}\",\n  \"scheme\": \"${ARG_SCHEME}\",\n  \"capabilities\": [${caps}],\n  \"version\": \"${OTAFLEET_VERSION}\"\n}\n")
    qt_add_plugin(${ARG_NAME} SHARED CLASS_NAME ${ARG_CLASS})
    target_sources(${ARG_NAME} PRIVATE ${ARG_SOURCES})
    # The plugin class names the file by its bare name, Q_PLUGIN_METADATA(... FILE "<NAME>.json"):
    # moc (and AUTOMOC's dependency scan) find it through this include directory. moc needs a
    # string literal there, so a macro holding the path would not work.
    target_include_directories(${ARG_NAME} PRIVATE ${CMAKE_CURRENT_BINARY_DIR})
    set_target_properties(${ARG_NAME} PROPERTIES
        LIBRARY_OUTPUT_DIRECTORY ${OTAFLEET_PLUGIN_BUILD_DIR})
    target_link_libraries(${ARG_NAME} PRIVATE otafleet_link ${ARG_LINK})
    otafleet_strict(${ARG_NAME})
    install(TARGETS ${ARG_NAME} LIBRARY DESTINATION ${OTAFLEET_PLUGIN_INSTALL_DIR} COMPONENT console)
endfunction()

# otafleet_add_test(NAME tst_x SOURCES ... LINK ... LABELS unit|integration|gui [TIMEOUT s])
function(otafleet_add_test)
    cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;LINK;LABELS" ${ARGN})
    add_executable(${ARG_NAME} ${ARG_SOURCES})
    target_link_libraries(${ARG_NAME} PRIVATE Qt6::Test ${ARG_LINK})
    target_include_directories(${ARG_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
    target_compile_definitions(${ARG_NAME} PRIVATE
        OTAFLEET_BIN_DIR="${CMAKE_BINARY_DIR}/bin"
        OTAFLEET_PLUGIN_DIR="${OTAFLEET_PLUGIN_BUILD_DIR}"
        OTAFLEET_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    otafleet_strict(${ARG_NAME})
    add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 120)
    endif()
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QT_LOGGING_RULES=*.debug=false")
endfunction()

# Adds a subdirectory only once it has a CMakeLists.txt, so a tree that grows module by module
# always configures.
function(otafleet_optional_subdirectory dir)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/CMakeLists.txt)
        add_subdirectory(${dir})
    endif()
endfunction()

# Includes every *.cmake file of the current folder (one per module owner), sorted.
macro(otafleet_include_parts)
    file(GLOB _parts CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cmake)
    list(SORT _parts)
    foreach(_part ${_parts})
        include(${_part})
    endforeach()
endmacro()
