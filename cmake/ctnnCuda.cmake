# The optional CUDA backend: the library ctnn::cuda (target ctnn_cuda), compiled from src/cuda/,
# built only when CTNN_WITH_CUDA is ON and a CUDA compiler (nvcc) is found. Without one, the
# configure goes on unchanged and nothing CUDA is built; CTNN_CUDA_FOUND tells the fragments
# (tests/cuda.cmake, examples/cuda/cuda.cmake, bench/cuda/cuda.cmake) whether to add their targets.
#
# Included from the top-level CMakeLists.txt (before the tests and examples) and, for the
# device-check build, from bench/cuda/device/CMakeLists.txt. The host headers of the backend
# (include/ctnn/kernels/cuda/, include/ctnn/cuda/) are plain C++ in ctnn::ctnn; only the sources
# here include CUDA headers, and nvcc never sees Boost.Hana or xtensor.
#
# Architectures: sm_90 machine code plus compute_90 PTX ("90-real;90-virtual"), so an H100/H200
# runs the machine code and later GPUs JIT the PTX. Override with -DCMAKE_CUDA_ARCHITECTURES=...
include_guard(GLOBAL)

set(CTNN_CUDA_FOUND FALSE)
if(NOT CTNN_WITH_CUDA)
  return()
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(STATUS "ctnn: no CUDA compiler found; the CUDA backend is not built")
  return()
endif()

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual")
endif()
# One CUDA runtime per program: the shared one, for the library and for the (C++) programs that
# link it, which would otherwise get cudart_static through CUDA's implicit link libraries.
if(NOT DEFINED CMAKE_CUDA_RUNTIME_LIBRARY)
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
# cuBLAS from the toolkit, else from CTNN_CUBLAS_ROOT (a folder with include/cublas_v2.h and
# lib/libcublas.so*, e.g. the nvidia-cublas Python wheel that PyTorch installs).
set(CTNN_CUBLAS_ROOT "" CACHE PATH "cuBLAS location when the CUDA toolkit has none")
set(_ctnn_cublas CUDA::cublas)
if(NOT TARGET CUDA::cublas AND CTNN_CUBLAS_ROOT)
  find_path(CTNN_CUBLAS_INCLUDE cublas_v2.h PATHS "${CTNN_CUBLAS_ROOT}/include" NO_DEFAULT_PATH)
  find_library(CTNN_CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12
               PATHS "${CTNN_CUBLAS_ROOT}/lib" NO_DEFAULT_PATH)
  find_library(CTNN_CUBLASLT_LIBRARY NAMES cublasLt libcublasLt.so.13 libcublasLt.so.12
               PATHS "${CTNN_CUBLAS_ROOT}/lib" NO_DEFAULT_PATH)
  if(CTNN_CUBLAS_INCLUDE AND CTNN_CUBLAS_LIBRARY)
    add_library(ctnn_cublas INTERFACE)
    target_include_directories(ctnn_cublas INTERFACE "${CTNN_CUBLAS_INCLUDE}")
    target_link_libraries(ctnn_cublas INTERFACE "${CTNN_CUBLAS_LIBRARY}" ${CTNN_CUBLASLT_LIBRARY})
    set(_ctnn_cublas ctnn_cublas)
  endif()
endif()
if(NOT TARGET ${_ctnn_cublas})
  message(STATUS "ctnn: CUDA found but not cuBLAS; the CUDA backend is not built "
                 "(set CTNN_CUBLAS_ROOT to a folder with include/cublas_v2.h and lib/libcublas.so)")
  return()
endif()

set(_ctnn_root "${CMAKE_CURRENT_LIST_DIR}/..")
add_library(ctnn_cuda STATIC
  ${_ctnn_root}/src/cuda/runtime.cpp
  ${_ctnn_root}/src/cuda/elementwise.cu
  ${_ctnn_root}/src/cuda/conv.cu
  ${_ctnn_root}/src/cuda/pool.cu
  ${_ctnn_root}/src/cuda/batch_norm.cu
  ${_ctnn_root}/src/cuda/loss.cu
  ${_ctnn_root}/src/cuda/optimizer.cu)
add_library(ctnn::cuda ALIAS ctnn_cuda)
set_target_properties(ctnn_cuda PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  CUDA_RUNTIME_LIBRARY Shared
  CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON
  CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
# Only the backend's own headers: the sources include nothing else of ctnn.
target_include_directories(ctnn_cuda PRIVATE ${_ctnn_root}/include)
target_compile_options(ctnn_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:--extended-lambda -Xcompiler=-Wall>
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
# Users get ctnn::ctnn (the headers, the device net and trainer) and the CUDA libraries at link
# time only: no CUDA include directory reaches them.
target_link_libraries(ctnn_cuda
  PUBLIC ctnn::ctnn
  PRIVATE CUDA::cudart ${_ctnn_cublas})
target_compile_definitions(ctnn_cuda INTERFACE CTNN_WITH_CUDA_BACKEND=1)
set(CTNN_CUDA_FOUND TRUE)
message(STATUS "ctnn: CUDA backend enabled (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
               "architectures ${CMAKE_CUDA_ARCHITECTURES})")
