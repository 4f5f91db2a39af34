# CUDA examples (docs/cuda.md): built when the CUDA backend is (target ctnn::cuda, see
# cmake/ctnnCuda.cmake). Included by examples/CMakeLists.txt and by tests/cuda.cmake, so the
# examples are compiled even in builds without examples; include_guard keeps it to once.
include_guard(GLOBAL)
if(NOT TARGET ctnn::cuda)
  return()
endif()

add_executable(fashion_mnist_gpu ${CMAKE_CURRENT_LIST_DIR}/fashion_mnist_gpu.cpp)
target_link_libraries(fashion_mnist_gpu PRIVATE ctnn::cuda)
target_compile_options(fashion_mnist_gpu PRIVATE -Wall -Wextra)
