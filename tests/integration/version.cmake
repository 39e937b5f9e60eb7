# Every program answers --version with the one version CMake computed (cmake/OtafleetVersion.cmake).
otafleet_add_test(NAME tst_version SOURCES tst_version.cpp LINK otafleet_testsupport
                  LABELS integration TIMEOUT 60)
target_compile_definitions(tst_version PRIVATE OTAFLEET_EXPECTED_VERSION="${OTAFLEET_VERSION}")
add_dependencies(tst_version otafleetctl otafleet-agent)
foreach(program otafleet otafleetd)
    if(TARGET ${program})
        string(TOUPPER ${program} upper)
        target_compile_definitions(tst_version PRIVATE OTAFLEET_HAVE_${upper})
        add_dependencies(tst_version ${program})
    endif()
endforeach()
