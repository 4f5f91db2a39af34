# Fuzz harnesses as regression tests (label fuzz). Each fuzz/<name>_fuzz.cpp is built here as an
# ordinary program (no AFL++ needed: without -DCTNN_FUZZ_PERSISTENT its main() reads the files
# and directories named on its command line, see fuzz/fuzz_main.hpp) and one CTest,
# fuzz.<name>, runs it over its whole seed corpus fuzz/corpus/<name>/, where every crash or hang
# input AFL++ ever found is kept. A reader that crashes, aborts or throws anything but
# ctnn::FileError on one of them fails the test. Under -DCTNN_SANITIZE=ON the harnesses are built
# with AddressSanitizer and UndefinedBehaviorSanitizer like the unit tests, plus
# float-cast-overflow (not part of GCC's -fsanitize=undefined): a reader must not convert a NaN or
# out-of-range double from a file to an integer (the checkpoint corpus holds such inputs).
# Fuzzing itself (AFL++): fuzz/README.md, fuzz/run-afl.sh.
foreach(name idx weights checkpoint)
  set(target ${name}_fuzz)
  add_executable(${target} ${PROJECT_SOURCE_DIR}/fuzz/${name}_fuzz.cpp)
  target_link_libraries(${target} PRIVATE ctnn::ctnn)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(CTNN_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined,float-cast-overflow
                                             -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined,float-cast-overflow)
  endif()
  add_test(NAME fuzz.${name} COMMAND ${target} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 120)
endforeach()
