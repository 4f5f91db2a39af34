# Outside-project tests (label consumer): tests/consumer is built against ctnn
#   consumer.install       - after `cmake --install` of this build into a scratch prefix, with
#                            find_package(ctnn CONFIG REQUIRED)
#   consumer.add_subdirectory - with add_subdirectory(<this source tree>)
# and its program is run. Driven by tests/consumer/run.cmake; scratch space is
# <build>/tests/consumer/<mode>, wiped at the start of each run.
foreach(mode install subdirectory)
  set(test_name consumer.${mode})
  if(mode STREQUAL "subdirectory")
    set(test_name consumer.add_subdirectory)
  endif()
  add_test(NAME ${test_name}
    COMMAND ${CMAKE_COMMAND}
      -DMODE=${mode}
      -DCTNN_SOURCE_DIR=${PROJECT_SOURCE_DIR}
      -DCTNN_BINARY_DIR=${PROJECT_BINARY_DIR}
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer/${mode}
      -DGENERATOR=${CMAKE_GENERATOR}
      -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
      -P ${CMAKE_CURRENT_LIST_DIR}/consumer/run.cmake)
  set_tests_properties(${test_name} PROPERTIES LABELS consumer TIMEOUT 600)
endforeach()
