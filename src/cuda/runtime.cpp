// Device query, memory, copies and cuBLAS GEMM for the CUDA backend (declared in
// include/ctnn/kernels/cuda/runtime.hpp and kernels.hpp). Plain C++ against the CUDA runtime
// and cuBLAS; compiled by the host compiler.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "ctnn/kernels/cuda/kernels.hpp"
#include "ctnn/kernels/cuda/runtime.hpp"

namespace ctnn::kernels::cuda {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw ctnn::cuda::CudaError(std::string("ctnn CUDA backend: ") + what + ": " +
                                cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
                                ")");
}

const char* cublas_status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
  }
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw ctnn::cuda::CudaError(std::string("ctnn CUDA backend: ") + what + ": " +
                                cublas_status_name(status));
}

bool tf32_from_environment() {
  const char* v = std::getenv("CTNN_CUDA_TF32");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

bool tf32_enabled = tf32_from_environment();

// One cuBLAS handle for the process, on the default stream, created at first use.
cublasHandle_t blas() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    check(cublasCreate(&h), "cublasCreate");
    check(cublasSetMathMode(h, tf32_enabled ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
    return h;
  }();
  return handle;
}

int as_int(std::size_t v, const char* what) {
  if (v > std::size_t(INT_MAX))
    throw ctnn::cuda::CudaError(std::string("ctnn CUDA backend: gemm: ") + what + " = " +
                                std::to_string(v) + " exceeds cuBLAS's 32-bit int");
  return int(v);
}

}  // namespace

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // a non-sticky error: clear it so later calls start clean
    return 0;
  }
  return count;
}

std::string device_count_error() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  (void)cudaGetLastError();
  if (status != cudaSuccess)
    return std::string(cudaGetErrorName(status)) + " (" + cudaGetErrorString(status) + ")";
  return count == 0 ? "no CUDA device" : "";
}

std::string device_description() {
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
         std::to_string(prop.minor) + ", " +
         std::to_string(prop.totalGlobalMem >> 30) + " GiB, " +
         std::to_string(prop.multiProcessorCount) + " SMs)";
}

void* device_malloc(std::size_t bytes) {
  void* p = nullptr;
  if (bytes == 0) return nullptr;
  const cudaError_t status = cudaMalloc(&p, bytes);
  if (status != cudaSuccess)
    check(status, ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
  return p;
}

void device_free(void* pointer) noexcept {
  if (pointer != nullptr) (void)cudaFree(pointer);
}

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy to device");
}
void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  if (bytes) check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy to host");
}
void copy_on_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes && dst != src)
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0), "copy on device");
}
void fill_zero(void* dst, std::size_t bytes) {
  if (bytes) check(cudaMemsetAsync(dst, 0, bytes, 0), "cudaMemset");
}

void synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

void set_tf32(bool enabled) {
  tf32_enabled = enabled;
  check(cublasSetMathMode(blas(), enabled ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
        "cublasSetMathMode");
}
bool tf32() { return tf32_enabled; }

// Row-major C (M,N) = op(A) op(B) is column-major C^T (N,M) = op(B)^T op(A)^T: swap the operands.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
          std::size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // C = beta C (beta == 0 ignores C, which may hold NaN)
    for (std::size_t i = 0; i < m; ++i) {
      if (beta == 0.0f)
        fill_zero(c + i * ldc, n * sizeof(float));
      else
        scale(c + i * ldc, n, beta);
    }
    return;
  }
  check(cublasSgemm(blas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                    trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, as_int(n, "N"), as_int(m, "M"),
                    as_int(k, "K"), &alpha, b, as_int(ldb, "ldb"), a, as_int(lda, "lda"), &beta, c,
                    as_int(ldc, "ldc")),
        "cublasSgemm");
}

}  // namespace ctnn::kernels::cuda
