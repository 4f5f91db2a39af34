# Drives one consumer test (see tests/consumer.cmake):
#   cmake -DMODE=install|subdirectory -DCTNN_SOURCE_DIR=... -DCTNN_BINARY_DIR=... -DWORK_DIR=...
#         -DGENERATOR=... -DCXX_COMPILER=... -P run.cmake
# install:      cmake --install CTNN_BINARY_DIR into WORK_DIR/prefix, then configure, build and
#               run tests/consumer with find_package(ctnn CONFIG REQUIRED) against that prefix.
# subdirectory: configure, build and run tests/consumer with add_subdirectory(CTNN_SOURCE_DIR).
# WORK_DIR is wiped first, so every run starts from nothing.
cmake_minimum_required(VERSION 3.20)

foreach(var MODE CTNN_SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()

function(step what)
  list(JOIN ARGN " " text)
  message("consumer[${MODE}]: ${what}: ${text}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    message("${out}")
    message(FATAL_ERROR "consumer[${MODE}]: ${what} failed (status ${status})")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(consumer_dir "${CMAKE_CURRENT_LIST_DIR}")
set(build_dir "${WORK_DIR}/build")
set(configure_args -S "${consumer_dir}" -B "${build_dir}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)

if(MODE STREQUAL "install")
  if(NOT DEFINED CTNN_BINARY_DIR)
    message(FATAL_ERROR "run.cmake: -DCTNN_BINARY_DIR=... is required for MODE install")
  endif()
  set(prefix "${WORK_DIR}/prefix")
  step("install" "${CMAKE_COMMAND}" --install "${CTNN_BINARY_DIR}" --prefix "${prefix}")
  if(NOT EXISTS "${prefix}/include/ctnn/ctnn.hpp")
    message(FATAL_ERROR "consumer[install]: ${prefix}/include/ctnn/ctnn.hpp was not installed")
  endif()
  step("configure" "${CMAKE_COMMAND}" ${configure_args}
       "-DCMAKE_PREFIX_PATH=${prefix}" "-DCTNN_CONSUMER_EXPECT_PREFIX=${prefix}")
elseif(MODE STREQUAL "subdirectory")
  step("configure" "${CMAKE_COMMAND}" ${configure_args}
       -DCTNN_CONSUMER_USE_SUBDIRECTORY=ON "-DCTNN_CONSUMER_CTNN_DIR=${CTNN_SOURCE_DIR}")
else()
  message(FATAL_ERROR "run.cmake: MODE must be install or subdirectory, not '${MODE}'")
endif()

step("build" "${CMAKE_COMMAND}" --build "${build_dir}")
step("run" "${build_dir}/ctnn_consumer")
message("${step_output}")
if(NOT step_output MATCHES "ctnn consumer: ok")
  message(FATAL_ERROR "consumer[${MODE}]: the program did not print 'ctnn consumer: ok'")
endif()
message("consumer[${MODE}]: passed")
