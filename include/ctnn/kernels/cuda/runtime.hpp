#pragma once
// The host side of the CUDA runtime, as plain C++: device query, device memory, copies and the
// few run-time switches of the backend. Defined in src/cuda/runtime.cpp (library ctnn::cuda); no
// CUDA header is included here, so g++ compiles every user of the backend and nvcc never sees
// Boost.Hana or xtensor.
//
// Every call works on the current device (device 0 unless CUDA_VISIBLE_DEVICES says otherwise)
// and on one stream: kernels, cuBLAS calls and copies run in the order they were issued. A copy
// to the host waits for everything issued before it. Failures throw ctnn::cuda::CudaError naming
// the call that failed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "ctnn/error.hpp"

namespace ctnn::cuda {

// A CUDA runtime, cuBLAS or kernel launch failure: what was being done and CUDA's own words.
struct CudaError : Error {
  using Error::Error;
};

}  // namespace ctnn::cuda

namespace ctnn::kernels::cuda {

// Number of usable CUDA devices; 0 when there is none, no driver, or the driver is too old for
// this runtime (never throws: the GPU tests use it to decide whether to skip).
int device_count() noexcept;

// Why device_count() returned 0: CUDA's error name and message ("cudaErrorNoDevice (no
// CUDA-capable device is detected)"), or "no CUDA device" when the call succeeded with 0 devices;
// empty when there is a device.
std::string device_count_error();

// "NVIDIA H200 (sm_90, 139 GiB)" for the current device; throws CudaError without one.
std::string device_description();

// Device memory. device_free(nullptr) does nothing.
void* device_malloc(std::size_t bytes);
void device_free(void* pointer) noexcept;

// Copies of `bytes` bytes. to_host waits for the work issued before it.
void copy_to_device(void* device_dst, const void* host_src, std::size_t bytes);
void copy_to_host(void* host_dst, const void* device_src, std::size_t bytes);
void copy_on_device(void* device_dst, const void* device_src, std::size_t bytes);
void fill_zero(void* device_dst, std::size_t bytes);

// Waits for all issued work; throws CudaError if any of it failed.
void synchronize();

// cuBLAS math mode: false (default) computes FP32 GEMMs in full FP32, so results match the CPU
// backend to ~1e-6; true lets cuBLAS use TF32 tensor cores (about 3 decimal digits, PyTorch's
// default for convolutions). Set from the environment variable CTNN_CUDA_TF32=1 at start.
void set_tf32(bool enabled);
bool tf32();

// RAII device array of n values of T (uninitialised). Moves transfer ownership; no copies.
// ensure(n) grows it (dropping the contents) only when n is larger than the capacity, so
// steady-state training steps never allocate.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) { ensure(n); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      device_free(data_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~DeviceBuffer() { device_free(data_); }

  void ensure(std::size_t n) {
    if (n <= size_) return;
    device_free(data_);
    data_ = nullptr;
    size_ = 0;
    data_ = static_cast<T*>(device_malloc(n * sizeof(T)));
    size_ = n;
  }
  void zero() { if (size_) fill_zero(data_, size_ * sizeof(T)); }

  // Host <-> device copies of the first n values.
  void upload(const T* host, std::size_t n) { copy_to_device(data_, host, checked(n) * sizeof(T)); }
  void download(T* host, std::size_t n) const { copy_to_host(host, data_, checked(n) * sizeof(T)); }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::size_t checked(std::size_t n) const {
    if (n > size_)
      throw ConfigError("DeviceBuffer: " + std::to_string(n) + " values asked of a buffer of " +
                        std::to_string(size_));
    return n;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace ctnn::kernels::cuda
