#pragma once
// Host emulation of src/cuda/common.cuh, for the test cuda.emulated (tests/cuda.cmake): the .cu
// sources are compiled as plain C++ with their `<<<grid, block>>>` launch configurations
// stripped, so each kernel runs once as a single thread of a single block. Every kernel of the
// backend loops grid- and block-stride over its work (no kernel depends on its launch shape), so
// that one thread does all of it, in order. This checks the index arithmetic, the chunking and
// the host-side logic of the backend without a GPU; it cannot check races, warp-level code or
// launch limits, which only the gpu tests do.
#include <math.h>  // expf, tanhf, sqrtf: built-ins for nvcc, <math.h> here

#include <cstddef>
#include <cstdint>
#include <string>

#include "ctnn/kernels/cuda/runtime.hpp"

#define __global__
#define __device__
#define __host__
#define __launch_bounds__(...)

struct ctnn_emulated_dim3 {
  unsigned x = 0, y = 0, z = 0;
};
inline const ctnn_emulated_dim3 blockIdx{0, 0, 0}, threadIdx{0, 0, 0};
inline const ctnn_emulated_dim3 blockDim{1, 1, 1}, gridDim{1, 1, 1};

namespace ctnn::kernels::cuda::detail {

inline void check_launch(const char*) {}

constexpr int threads_per_block = 256;
inline unsigned blocks_for(std::size_t, int = threads_per_block) { return 1; }

inline std::size_t global_index() { return std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; }
inline std::size_t global_stride() { return std::size_t(gridDim.x) * blockDim.x; }

// One thread per block: the block's sum is the thread's value.
template <class T>
T block_sum(T value) {
  return value;
}

}  // namespace ctnn::kernels::cuda::detail
