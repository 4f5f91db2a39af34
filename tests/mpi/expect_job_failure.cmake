# cmake -DJOB=<mpiexec;...> -DSECONDS=<s> [-DEXPECT=<text>] -P expect_job_failure.cmake
# Passes when JOB, run under `timeout SECONDS`, ends by itself with a non-zero status (and
# its output contains EXPECT when given); fails when it succeeds or has to be killed (a hang).
cmake_minimum_required(VERSION 3.20)
if(NOT DEFINED JOB OR NOT DEFINED SECONDS)
  message(FATAL_ERROR "expect_job_failure.cmake: JOB and SECONDS are required")
endif()
list(FILTER JOB EXCLUDE REGEX "^$")
string(TIMESTAMP started "%s")
# timeout: TERM at SECONDS, KILL 10 s later. Its status 124 means the job was still running;
# 137 (128 + SIGKILL) is also what mpiexec returns for a rank killed by SIGKILL, so the elapsed
# time decides.
execute_process(COMMAND timeout -k 10 ${SECONDS} ${JOB}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(TIMESTAMP ended "%s")
math(EXPR took "${ended} - ${started}")
message("${out}${err}")
message("exit status ${rc} after ${took} s")
if(rc STREQUAL "124" OR took GREATER_EQUAL SECONDS)
  message(FATAL_ERROR "the job hung: still running after ${SECONDS} s")
endif()
if(rc STREQUAL "0")
  message(FATAL_ERROR "the job exited with status 0; a failing rank must fail the job")
endif()
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "could not run the job: ${rc}")
endif()
if(EXPECT)
  string(FIND "${out}${err}" "${EXPECT}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the output lacks the expected message: ${EXPECT}")
  endif()
endif()
