#pragma once
// ctnn's CUDA backend: the one header a GPU program adds to <ctnn/ctnn.hpp>. Link ctnn::cuda.
//
//   ctnn::cuda::Trainer<Model, Loss, Optimizer, ...>   ctnn::Trainer with the net on the GPU
//   ctnn::cuda::DeviceNet<Model>                       the same Net<...> type in device memory
//   ctnn::cuda::evaluate<Loss>(device_net, dataset)    loss and accuracy on the GPU
//   ctnn::cuda::available()                            true when a CUDA device can be used
//
// Plain C++ like the rest of ctnn: no CUDA header is included, so any C++20 compiler builds the
// program; the kernels live in the library ctnn::cuda. See docs/cuda.md.
#include <string>

#include "ctnn/cuda/device_layers.hpp"
#include "ctnn/cuda/device_net.hpp"
#include "ctnn/cuda/optimizers.hpp"
#include "ctnn/cuda/trainer.hpp"
#include "ctnn/kernels/cuda/kernels.hpp"
#include "ctnn/kernels/cuda/runtime.hpp"

namespace ctnn::cuda {

// True when at least one CUDA device is usable (a driver, a device, a compatible runtime).
inline bool available() noexcept { return kernels::cuda::device_count() > 0; }

// "NVIDIA H200 (sm_90, 139 GiB, 132 SMs)"; throws CudaError without a device.
inline std::string device_description() { return kernels::cuda::device_description(); }

}  // namespace ctnn::cuda
