# Compile-fail tests: every tests/compile_fail/*.cpp becomes the CTest `compile_fail.<name>`
# (label compile_fail), run by tests/compile_fail/run_case.cmake:
#   - <name>.cpp must FAIL to compile, with a diagnostic matching each `// expect: <regex>` line
#     of the file and no longer than `// max-lines: N` lines (default 20);
#   - <name>_ok.cpp must compile (positive controls: the same code, done right).
# Run them alone with: ctest --test-dir build -L compile_fail --output-on-failure
include(${CMAKE_CURRENT_LIST_DIR}/compile_fail/flags.cmake)

file(GLOB ctnn_compile_fail_cases CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/compile_fail/*.cpp)
if(ctnn_compile_fail_cases)
  ctnn_compile_check_flags(ctnn_compile_check_flags_file)
endif()
foreach(src IN LISTS ctnn_compile_fail_cases)
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME compile_fail.${name}
    COMMAND ${CMAKE_COMMAND}
      -DCOMPILER=${CMAKE_CXX_COMPILER}
      -DFLAGS_FILE=${ctnn_compile_check_flags_file}
      -DSOURCE=${src}
      -P ${CMAKE_CURRENT_LIST_DIR}/compile_fail/run_case.cmake)
  set_tests_properties(compile_fail.${name} PROPERTIES LABELS compile_fail)
endforeach()
