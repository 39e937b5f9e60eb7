# The one version every program, plugin and package of this build carries (OTAFLEET_VERSION).
#   1. project(VERSION) in the top CMakeLists.txt: the release being worked on;
#   2. a git tag wins when there is one: `git describe --tags` gives X.Y.Z on the tagged commit
#      (a leading "v" is dropped) and X.Y.Z+N.gHASH N commits later (SemVer build metadata,
#      which dpkg and rpm sort after X.Y.Z);
#   3. -DOTAFLEET_FORCE_VERSION=X.Y.Z overrides both (the packaging test builds an older
#      version of the same tree to test upgrades).
# The version is fixed when CMake configures: re-run CMake after tagging.
set(OTAFLEET_FORCE_VERSION "" CACHE STRING
    "Version to build instead of the git tag or project(VERSION)")

function(otafleet_compute_version out)
    set(version ${PROJECT_VERSION})
    set(source "project(VERSION)")
    find_package(Git QUIET)
    if(GIT_FOUND)
        execute_process(COMMAND ${GIT_EXECUTABLE} describe --tags
                        WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                        OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE
                        RESULT_VARIABLE rc ERROR_QUIET)
        if(rc EQUAL 0)
            if(described MATCHES "^v?([0-9]+\\.[0-9]+\\.[0-9]+)-([0-9]+)-(g[0-9a-f]+)$")
                set(version "${CMAKE_MATCH_1}+${CMAKE_MATCH_2}.${CMAKE_MATCH_3}")
                set(source "git describe --tags")
            elseif(described MATCHES "^v?([0-9]+\\.[0-9]+\\.[0-9]+)$")
                set(version "${CMAKE_MATCH_1}")
                set(source "git tag")
            else()
                message(WARNING "otafleet: the git tag '${described}' is not vX.Y.Z; using "
                                "project(VERSION) ${PROJECT_VERSION}")
            endif()
        endif()
    endif()
    if(OTAFLEET_FORCE_VERSION)
        if(NOT OTAFLEET_FORCE_VERSION MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+(\\+[0-9A-Za-z.]+)?$")
            message(FATAL_ERROR "OTAFLEET_FORCE_VERSION must be X.Y.Z or X.Y.Z+BUILD, "
                                "not '${OTAFLEET_FORCE_VERSION}'")
        endif()
        set(version ${OTAFLEET_FORCE_VERSION})
        set(source "OTAFLEET_FORCE_VERSION")
    endif()
    message(STATUS "otafleet version ${version} (from ${source})")
    set(${out} ${version} PARENT_SCOPE)
endfunction()

otafleet_compute_version(OTAFLEET_VERSION)
