# The CUDA benchmark bench_cuda (bench/cuda/run drives it and PyTorch's twin). Built with the
# CUDA backend; included from tests/cuda.cmake so it is always compiled, and usable from
# bench/CMakeLists.txt. include_guard keeps it to once.
include_guard(GLOBAL)
if(NOT TARGET ctnn::cuda)
  return()
endif()

add_executable(bench_cuda ${CMAKE_CURRENT_LIST_DIR}/bench_cuda.cpp)
target_link_libraries(bench_cuda PRIVATE ctnn::cuda)
target_compile_options(bench_cuda PRIVATE -Wall -Wextra)
