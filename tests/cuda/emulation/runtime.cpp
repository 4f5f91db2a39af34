// Host emulation of src/cuda/runtime.cpp for the test cuda.emulated: "device" memory is host
// memory, copies are memcpy, GEMM is the reference GEMM, and there is always one device.
#include <cstdlib>
#include <cstring>
#include <string>

#include "ctnn/kernels/cuda/kernels.hpp"
#include "ctnn/kernels/cuda/runtime.hpp"
#include "ctnn/kernels/reference/gemm.hpp"

namespace ctnn::kernels::cuda {

namespace {
bool tf32_enabled = false;
}

int device_count() noexcept { return 1; }
std::string device_count_error() { return ""; }
std::string device_description() { return "host emulation of the CUDA kernels (tests/cuda/emulation)"; }

void* device_malloc(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = std::malloc(bytes);
  if (!p) throw ctnn::cuda::CudaError("emulated device_malloc failed");
  std::memset(p, 0xff, bytes);  // NaN-filled, as uninitialised device memory may be
  return p;
}
void device_free(void* pointer) noexcept { std::free(pointer); }

void copy_to_device(void* dst, const void* src, std::size_t bytes) { if (bytes) std::memcpy(dst, src, bytes); }
void copy_to_host(void* dst, const void* src, std::size_t bytes) { if (bytes) std::memcpy(dst, src, bytes); }
void copy_on_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes && dst != src) std::memmove(dst, src, bytes);
}
void fill_zero(void* dst, std::size_t bytes) { if (bytes) std::memset(dst, 0, bytes); }
void synchronize() {}
void set_tf32(bool enabled) { tf32_enabled = enabled; }
bool tf32() { return tf32_enabled; }

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
          std::size_t ldc) {
  reference::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace ctnn::kernels::cuda
