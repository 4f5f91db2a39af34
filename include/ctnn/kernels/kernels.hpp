#pragma once
// The kernel boundary: the only kernel names layers and optimizers call. Each is the fastest
// CPU implementation (kernels/cpu/: xsimd, OpenMP over the batch) or, where speed does not
// matter (sigmoid, tanh), the scalar reference (kernels/reference/). The reference
// kernels stay the specification: tests/unit/test_kernels.cpp checks every fast kernel
// against them.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "ctnn/kernels/cpu/batch_norm.hpp"
#include "ctnn/kernels/cpu/conv.hpp"
#include "ctnn/kernels/cpu/elementwise.hpp"
#include "ctnn/kernels/cpu/gemm.hpp"
#include "ctnn/kernels/cpu/optimizer.hpp"
#include "ctnn/kernels/cpu/pool.hpp"
#include "ctnn/kernels/geometry.hpp"
#include "ctnn/kernels/reference/batch_norm.hpp"
#include "ctnn/kernels/reference/elementwise.hpp"
#include "ctnn/kernels/reference/optimizer.hpp"

namespace ctnn::kernels {

using reference::AdamCoefficients;
using reference::BatchNormSettings;
using reference::RmsPropCoefficients;

// C = alpha * op(A) * op(B) + beta * C, row-major (see reference::gemm).
using cpu::gemm;

// Convolution (see cpu/conv.hpp): x (B,C,H,W), w (F, C*K*K), b (F) => y (B,F,OH*OW); the
// workspace belongs to the layer and stops growing after the first step.
using cpu::conv2d_backward;
using cpu::conv2d_forward;
using cpu::conv_workspace;

// Fully connected: x (B,In), w (Out,In), b (Out) => y (B,Out).
template <class T>
void dense_forward(const T* x, const T* w, const T* b, T* y, std::size_t batch, std::size_t in,
                   std::size_t out) {
  for (std::size_t n = 0; n < batch; ++n) std::copy(b, b + out, y + n * out);
  gemm(false, true, batch, out, in, T(1), x, in, w, in, T(1), y, out);
}

// dw (Out,In) = dy^T x, db = column sums of dy, dx (B,In) = dy w (when non-null).
template <class T>
void dense_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t batch,
                    std::size_t in, std::size_t out) {
  gemm(true, false, out, in, batch, T(1), dy, out, x, in, T(0), dw, in);
  std::fill(db, db + out, T(0));
  for (std::size_t n = 0; n < batch; ++n) cpu::add_to(dy + n * out, db, out);
  if (dx) gemm(false, false, batch, in, out, T(1), dy, out, w, in, T(0), dx, in);
}

using cpu::avgpool_backward;
using cpu::avgpool_forward;
using cpu::global_avgpool_backward;
using cpu::global_avgpool_forward;
using cpu::maxpool_backward;
using cpu::maxpool_backward_through_relu;
using cpu::maxpool_forward;
using cpu::batch_norm_backward;
using cpu::batch_norm_forward_inference;
using cpu::batch_norm_forward_train;

using cpu::add_to;
using cpu::leaky_relu_backward;
using cpu::leaky_relu_forward;
using cpu::multiply;
using cpu::relu_backward;
using cpu::relu_forward;
using reference::sigmoid_backward;
using reference::sigmoid_forward;
using reference::tanh_backward;
using reference::tanh_forward;

using cpu::adam_update;
using cpu::rmsprop_update;

}  // namespace ctnn::kernels
