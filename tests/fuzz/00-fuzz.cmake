# otafleet_add_fuzz_target(NAME fuzz_<thing> SOURCES <files> LINK <libs> CORPUS <dir>)
#
# One function for every parser's fuzz target, so that each parser is exercised the same way in
# both builds:
# - normal build (OTAFLEET_LIBFUZZER OFF, GCC): the target is linked with fuzz_replay_main.cpp,
#   which feeds every corpus file, plus deterministic truncations and bit flips of it, through
#   LLVMFuzzerTestOneInput. A ctest (label fuzz) replays the committed corpus, so a regression
#   input committed once is checked on every CI run without clang.
# - fuzz preset (OTAFLEET_LIBFUZZER ON, clang-16): a real libFuzzer binary with ASan and UBSan.
#   The ctest fuzzes for a bounded time; new inputs go to a corpus folder in the build tree, never
#   into the committed seeds.
# CORPUS is relative to tests/fuzz (e.g. corpus/manifest).

set(_otafleet_fuzz_sanitizers "address,undefined")

# libFuzzer only finds paths it can see: instrument our own static libraries too (not Qt, not
# OpenSSL), once each, with coverage but without libFuzzer's main.
function(_otafleet_fuzz_instrument target)
    get_property(done GLOBAL PROPERTY _otafleet_fuzz_instrumented)
    if(target IN_LIST done OR NOT TARGET ${target})
        return()
    endif()
    set_property(GLOBAL APPEND PROPERTY _otafleet_fuzz_instrumented ${target})
    get_target_property(type ${target} TYPE)
    if(NOT type STREQUAL "STATIC_LIBRARY" OR NOT target MATCHES "^otafleet_")
        return()
    endif()
    target_compile_options(${target} PRIVATE
        -fsanitize=fuzzer-no-link,${_otafleet_fuzz_sanitizers} -fno-omit-frame-pointer)
    get_target_property(deps ${target} LINK_LIBRARIES)
    if(deps)
        foreach(dep ${deps})
            _otafleet_fuzz_instrument(${dep})
        endforeach()
    endif()
endfunction()

function(otafleet_add_fuzz_target)
    cmake_parse_arguments(ARG "" "NAME;CORPUS" "SOURCES;LINK" ${ARGN})
    if(NOT ARG_NAME OR NOT ARG_SOURCES OR NOT ARG_CORPUS)
        message(FATAL_ERROR "otafleet_add_fuzz_target needs NAME, SOURCES and CORPUS")
    endif()
    set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_CORPUS})
    if(NOT IS_DIRECTORY ${corpus})
        # Not fatal: one owner's missing seeds must not stop everyone's configure; the test
        # fails instead, naming the folder.
        message(WARNING "${ARG_NAME}: seed corpus ${corpus} does not exist")
    endif()

    if(OTAFLEET_LIBFUZZER)
        add_executable(${ARG_NAME} ${ARG_SOURCES})
        set(flags -fsanitize=fuzzer,${_otafleet_fuzz_sanitizers} -fno-omit-frame-pointer)
        target_compile_options(${ARG_NAME} PRIVATE ${flags})
        target_link_options(${ARG_NAME} PRIVATE ${flags})
        foreach(lib ${ARG_LINK})
            _otafleet_fuzz_instrument(${lib})
        endforeach()
        set(work ${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}-corpus)
        file(MAKE_DIRECTORY ${work})
        # The first folder receives new inputs; the committed seeds are only read.
        add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} -max_total_time=20 -rss_limit_mb=2048
            -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}- ${work} ${corpus})
        set(timeout 120)
    else()
        add_executable(${ARG_NAME} ${ARG_SOURCES} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_replay_main.cpp)
        add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} ${corpus})
        set(timeout 60)
    endif()
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LINK})
    target_include_directories(${ARG_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
    otafleet_strict(${ARG_NAME})
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS fuzz TIMEOUT ${timeout}
        ENVIRONMENT "QT_LOGGING_RULES=*.debug=false;QT_QPA_PLATFORM=offscreen")
endfunction()
