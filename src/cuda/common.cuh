#pragma once
// What every src/cuda/*.cu file shares: launch shapes, error checks and block reductions.
// Only nvcc sees this file.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ctnn/kernels/cuda/runtime.hpp"

namespace ctnn::kernels::cuda::detail {

// Throws CudaError("<what>: <CUDA's message>") unless status is cudaSuccess.
inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw ctnn::cuda::CudaError(std::string("ctnn CUDA backend: ") + what + ": " +
                                cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
                                ")");
}

// After a kernel launch: reports a bad launch configuration or an earlier asynchronous fault.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

constexpr int threads_per_block = 256;

// Blocks for a grid-stride loop over n items: enough to fill the GPU, capped so the index
// arithmetic stays cheap; kernels loop when n is larger.
inline unsigned blocks_for(std::size_t n, int threads = threads_per_block) {
  const std::size_t blocks = (n + std::size_t(threads) - 1) / std::size_t(threads);
  constexpr std::size_t cap = 65536;
  return unsigned(blocks == 0 ? 1 : (blocks < cap ? blocks : cap));
}

// Grid-stride loop index helpers.
__device__ inline std::size_t global_index() {
  return std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline std::size_t global_stride() { return std::size_t(gridDim.x) * blockDim.x; }

// Sum of one value per thread over the block (blockDim.x a multiple of 32, at most 1024); every
// thread gets the result. Deterministic: a fixed tree, no atomics.
template <class T>
__device__ T block_sum(T value) {
  __shared__ T partial[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  __syncthreads();  // partial may still be read by a previous call
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  const unsigned warps = (blockDim.x + 31) / 32;
  value = threadIdx.x < warps ? partial[threadIdx.x] : T(0);
  if (warp == 0)
    for (int offset = 16; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
  if (threadIdx.x == 0) partial[0] = value;
  __syncthreads();
  return partial[0];
}

}  // namespace ctnn::kernels::cuda::detail
