# cmake -DPROGRAM=... -DNAME=... -DSUMMARY=... -DVERSION=... [-DHELP_ARGS=a;b] [-DEXTRA=file.troff]
#       -DGZIP=/bin/gzip -DOUTPUT=name.1.gz -P GenerateManPage.cmake
# Writes a section-1 man page from the program's own --help (so the page cannot drift from the
# options), followed by the hand-written sections in EXTRA (files, exit status, see also).
foreach(var PROGRAM NAME SUMMARY VERSION GZIP OUTPUT)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "GenerateManPage.cmake needs -D${var}=...")
    endif()
endforeach()
if(NOT HELP_ARGS)
    set(HELP_ARGS --help)
endif()
# HOME=~: defaults under the home directory read as such, not as the builder's home.
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=XDG_DATA_HOME --unset=XDG_CONFIG_HOME
                        HOME=~ QT_QPA_PLATFORM=offscreen ${PROGRAM} ${HELP_ARGS}
                OUTPUT_VARIABLE help RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 30)
if(NOT rc EQUAL 0 OR help STREQUAL "")
    message(FATAL_ERROR "${PROGRAM} ${HELP_ARGS} failed (${rc}): ${err}")
endif()
# Qt prints the full path of the binary in "Usage:"; the page names the command.
string(REPLACE "${PROGRAM}" "${NAME}" help "${help}")
# troff: a backslash is written \e; a line starting with . or ' would be a request.
string(REPLACE "\\" "\\e" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(REPLACE "-" "\\-" help "${help}")
string(TOUPPER "${NAME}" upper)
string(REPLACE ";" " " help_args "${HELP_ARGS}")
string(REPLACE "-" "\\-" help_args "${help_args}")
string(TIMESTAMP date "%Y-%m-%d" UTC)  # honours SOURCE_DATE_EPOCH for reproducible pages
set(page ".TH ${upper} 1 \"${date}\" \"otafleet ${VERSION}\" \"otafleet manual\"
.SH NAME
${NAME} \\- ${SUMMARY}
.SH DESCRIPTION
The text below is what
.B ${NAME} ${help_args}
prints.
.PP
.nf
${help}
.fi
")
if(EXTRA)
    file(READ ${EXTRA} extra)
    string(APPEND page "${extra}")
endif()
string(REGEX REPLACE "\\.gz$" "" plain "${OUTPUT}")
file(WRITE ${plain} "${page}")
execute_process(COMMAND ${GZIP} -9nf ${plain} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${plain} failed")
endif()
