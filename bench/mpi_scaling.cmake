# bench_mpi_scaling: data-parallel scaling of the Fashion-MNIST CNN over MPI. Needs
# CTNN_WITH_MPI=ON and an MPI (cmake/ctnnMpi.cmake); otherwise this fragment adds nothing.
# Included by bench/CMakeLists.txt (every bench/*.cmake); run it with bench/run_mpi_scaling
# (docs/distributed.md).
if(CTNN_WITH_MPI)
  include(${PROJECT_SOURCE_DIR}/cmake/ctnnMpi.cmake)
endif()
if(CTNN_WITH_MPI AND TARGET ctnn::mpi)
  add_executable(bench_mpi_scaling ${CMAKE_CURRENT_LIST_DIR}/bench_mpi_scaling.cpp)
  target_link_libraries(bench_mpi_scaling PRIVATE ctnn::mpi)
  # examples/models.hpp: the Fashion-MNIST CNN shared by the examples and the benchmarks.
  target_include_directories(bench_mpi_scaling PRIVATE ${PROJECT_SOURCE_DIR}/examples)
  target_compile_options(bench_mpi_scaling PRIVATE -Wall -Wextra)
  if(CTNN_NATIVE)  # bench/CMakeLists.txt: xsimd picks its instruction set at compile time
    target_compile_options(bench_mpi_scaling PRIVATE -march=native)
  endif()
endif()
