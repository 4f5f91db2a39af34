# bench_layers: per-layer micro-benchmarks of the Fashion-MNIST CNN (convolution, max pooling,
# ReLU; batch 64): ctnn's CPU kernels at 1 and 2 threads and the reference kernels (Google
# Benchmark). Included by bench/CMakeLists.txt (every bench/*.cmake fragment); needs the
# ctnn::ctnn target (brings OpenMP). bench/run_layers builds it, runs it next to PyTorch
# (bench/layers_torch.py) and prints the comparison.
#   cmake --build build-bench-layers --target bench_layers && build-bench-layers/bench/bench_layers
include_guard(GLOBAL)

find_package(benchmark QUIET)
if(benchmark_FOUND)
  add_executable(bench_layers ${CMAKE_CURRENT_LIST_DIR}/bench_layers.cpp)
  target_link_libraries(bench_layers PRIVATE ctnn::ctnn benchmark::benchmark)
  target_compile_options(bench_layers PRIVATE -Wall -Wextra)
  # xsimd picks its instruction set at compile time: build for the machine it measures, unless
  # CTNN_NATIVE (bench/CMakeLists.txt) is OFF.
  if(NOT DEFINED CTNN_NATIVE OR CTNN_NATIVE)
    target_compile_options(bench_layers PRIVATE -march=native)
  endif()
else()
  message(STATUS "bench_layers skipped: needs Google Benchmark (libbenchmark-dev)")
endif()
