# Runs one compile check: cmake -DCOMPILER=... -DFLAGS_FILE=... -DSOURCE=... [-DMODE=fail|ok]
#                                [-DEXTRA_FLAGS=a;b] -P run_case.cmake
#
# MODE fail (default, and for every file not named *_ok.cpp): compiles SOURCE with -fsyntax-only
# -std=c++20 and passes only if the compilation FAILS and its diagnostic
#   - matches every `// expect: <regex>` line of SOURCE (at least one such line is required;
#     CMake regex syntax, see `cmake --help-command string`: . * + ? [] () | ^ $ and \ escapes,
#     but no {n} counts and no \d; ^ and $ anchor the whole diagnostic, not one line; a regex is
#     taken verbatim, so write \( for a literal parenthesis), and
#   - has at most N lines, N from an optional `// max-lines: N` line (default 20).
# MODE ok (files named *_ok.cpp, and the header checks): passes only if SOURCE compiles.
# On any mismatch the full diagnostic is printed.
#
# The diagnostic is produced with LC_ALL=C (plain ASCII quotes: 'Dense<10>', not typographic
# ones) and without colours, so the regexes can be written against what a terminal shows.
# FLAGS_FILE is written by tests/compile_fail/flags.cmake from the usage requirements of ctnn.
cmake_minimum_required(VERSION 3.20)

foreach(var COMPILER FLAGS_FILE SOURCE)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_case.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${SOURCE}")
  message(FATAL_ERROR "run_case.cmake: no such source: ${SOURCE}")
endif()
if(NOT EXISTS "${FLAGS_FILE}")
  message(FATAL_ERROR "run_case.cmake: no flags file ${FLAGS_FILE} (re-run cmake on the build)")
endif()
include("${FLAGS_FILE}")

if(NOT DEFINED MODE OR MODE STREQUAL "")
  if(SOURCE MATCHES "_ok\\.cpp$")
    set(MODE ok)
  else()
    set(MODE fail)
  endif()
endif()
if(NOT MODE MATCHES "^(fail|ok)$")
  message(FATAL_ERROR "run_case.cmake: MODE must be fail or ok, not '${MODE}'")
endif()

# --- the compile command --------------------------------------------------------------------
# The project's own headers come in with -I (as in the build); every other non-implicit
# directory with -isystem (as CMake does for imported targets). Implicit directories such as
# /usr/include are left out: passing them again breaks #include_next in libstdc++.
set(cmd "${COMPILER}" -std=c++20 -fsyntax-only -fdiagnostics-color=never)
set(seen_dirs "")
foreach(dir IN LISTS CTNN_CC_INCLUDES CTNN_CC_SYSTEM_INCLUDES)
  if(dir STREQUAL "" OR dir IN_LIST seen_dirs OR dir IN_LIST CTNN_CC_IMPLICIT_INCLUDES)
    continue()
  endif()
  list(APPEND seen_dirs "${dir}")
  string(FIND "${dir}" "${CTNN_CC_PROJECT_INCLUDE}" at)
  if(at EQUAL 0)
    list(APPEND cmd "-I${dir}")
  else()
    list(APPEND cmd -isystem "${dir}")
  endif()
endforeach()
list(REMOVE_DUPLICATES CTNN_CC_DEFINES)
foreach(def IN LISTS CTNN_CC_DEFINES)
  if(NOT def STREQUAL "")
    list(APPEND cmd "-D${def}")
  endif()
endforeach()
set(seen_options "")
foreach(opt IN LISTS CTNN_CC_OPTIONS EXTRA_FLAGS)
  if(opt STREQUAL "" OR opt IN_LIST seen_options)
    continue()
  endif()
  list(APPEND seen_options "${opt}")
  if(opt MATCHES "^SHELL:(.*)$")
    separate_arguments(shell_opts UNIX_COMMAND "${CMAKE_MATCH_1}")
    list(APPEND cmd ${shell_opts})
  else()
    list(APPEND cmd "${opt}")
  endif()
endforeach()
list(APPEND cmd "${SOURCE}")

execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C LANG=C ${cmd}
  RESULT_VARIABLE status
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)
string(REGEX REPLACE "\n+$" "" out "${out}")
list(JOIN cmd " " cmd_text)

function(show_and_fail reason)
  message("command: ${cmd_text}")
  message("---- diagnostic (${line_count} lines) ----\n${out}\n---- end of diagnostic ----")
  message(FATAL_ERROR "${SOURCE}: ${reason}")
endfunction()

# Lines of the diagnostic (an empty diagnostic has none).
set(line_count 0)
if(NOT out STREQUAL "")
  string(REGEX MATCHALL "\n" newlines "${out}")
  list(LENGTH newlines line_count)
  math(EXPR line_count "${line_count} + 1")
endif()

if(MODE STREQUAL "ok")
  if(NOT status EQUAL 0)
    show_and_fail("expected to compile, but the compiler failed (status ${status})")
  endif()
  message("${SOURCE}: compiles, as expected")
  return()
endif()

# --- read the // expect: and // max-lines: lines of the case --------------------------------
# The file is split into lines by hand: characters that CMake lists treat specially
# (; [ ] \) are swapped for control characters first and restored per line, so any regex
# survives intact.
file(READ "${SOURCE}" text)
string(ASCII 1 c_semi)
string(ASCII 2 c_open)
string(ASCII 3 c_close)
string(ASCII 4 c_backslash)
string(REPLACE "\\" "${c_backslash}" text "${text}")
string(REPLACE ";" "${c_semi}" text "${text}")
string(REPLACE "[" "${c_open}" text "${text}")
string(REPLACE "]" "${c_close}" text "${text}")
string(REPLACE "\r" "" text "${text}")
string(REPLACE "\n" ";" lines "${text}")

set(expects "")
set(expect_count 0)
set(max_lines 20)
foreach(line IN LISTS lines)
  if(line MATCHES "^[ \t]*//[ \t]*expect:[ \t]*(.*[^ \t])[ \t]*$")
    set(re "${CMAKE_MATCH_1}")
    string(REPLACE "${c_backslash}" "\\" re "${re}")
    string(REPLACE "${c_semi}" ";" re "${re}")
    string(REPLACE "${c_open}" "[" re "${re}")
    string(REPLACE "${c_close}" "]" re "${re}")
    math(EXPR expect_count "${expect_count} + 1")
    set(expect_${expect_count} "${re}")
  elseif(line MATCHES "^[ \t]*//[ \t]*max-lines:[ \t]*([0-9]+)[ \t]*$")
    set(max_lines "${CMAKE_MATCH_1}")
  endif()
endforeach()

if(expect_count EQUAL 0)
  show_and_fail("a compile-fail case needs at least one `// expect: <regex>` line")
endif()
if(status EQUAL 0)
  show_and_fail("expected a compile error, but it compiled")
endif()

set(missing "")
foreach(i RANGE 1 ${expect_count})
  if(NOT out MATCHES "${expect_${i}}")
    string(APPEND missing "\n  ${expect_${i}}")
  endif()
endforeach()
if(NOT missing STREQUAL "")
  show_and_fail("the diagnostic does not match these expect lines:${missing}")
endif()
if(line_count GREATER max_lines)
  show_and_fail("the diagnostic has ${line_count} lines, more than max-lines ${max_lines}")
endif()

message("${SOURCE}: fails as expected (${expect_count} expect lines matched, "
        "${line_count}/${max_lines} lines)")
