#pragma once
// The kernel boundary: the only kernel names layers call. Each forwards to the fastest CPU
// implementation available and falls back to the scalar reference (kernels/reference/), which
// stays the specification the fast kernels are tested against.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctnn/kernels/geometry.hpp"
#include "ctnn/kernels/reference/batch_norm.hpp"
#include "ctnn/kernels/reference/conv.hpp"
#include "ctnn/kernels/reference/elementwise.hpp"
#include "ctnn/kernels/reference/gemm.hpp"
#include "ctnn/kernels/reference/pool.hpp"
#if __has_include("ctnn/kernels/cpu/gemm.hpp")
#include "ctnn/kernels/cpu/gemm.hpp"
#define CTNN_HAS_FAST_GEMM 1
#endif

namespace ctnn::kernels {

using reference::BatchNormSettings;

// C = alpha * op(A) * op(B) + beta * C, row-major (see reference::gemm).
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
#ifdef CTNN_HAS_FAST_GEMM
  cpu::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
  reference::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

// Convolution lowered to GEMM, one sample at a time; `columns` is the caller's workspace.
// x: (B,C,H,W)  w: (F, C*K*K)  b: (F)  =>  y: (B,F,OH*OW)
template <ConvGeometry G, class T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, std::size_t batch,
                    std::vector<T>& columns) {
  columns.resize(G.patch_size() * G.out_pixels());
  for (std::size_t n = 0; n < batch; ++n) {
    T* yn = y + n * G.output_size();
    for (std::size_t f = 0; f < G.filters; ++f)
      for (std::size_t p = 0; p < G.out_pixels(); ++p) yn[f * G.out_pixels() + p] = b[f];
    reference::im2col<G>(x + n * G.input_size(), columns.data());
    // (F, CKK) x (CKK, OHW) => (F, OHW)
    gemm(false, false, G.filters, G.out_pixels(), G.patch_size(), T(1), w, G.patch_size(),
         columns.data(), G.out_pixels(), T(1), yn, G.out_pixels());
  }
}

// dw, db overwritten; dx overwritten when non-null.
template <ConvGeometry G, class T>
void conv2d_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t batch,
                     std::vector<T>& columns) {
  columns.resize(G.patch_size() * G.out_pixels());
  for (std::size_t f = 0; f < G.filters; ++f) db[f] = 0;
  for (std::size_t n = 0; n < batch; ++n) {
    const T* dyn = dy + n * G.output_size();
    for (std::size_t f = 0; f < G.filters; ++f)
      for (std::size_t p = 0; p < G.out_pixels(); ++p) db[f] += dyn[f * G.out_pixels() + p];
    reference::im2col<G>(x + n * G.input_size(), columns.data());
    // dW (F, CKK) (+)= dy_n (F, OHW) x cols^T (OHW, CKK)
    gemm(false, true, G.filters, G.patch_size(), G.out_pixels(), T(1), dyn, G.out_pixels(),
         columns.data(), G.out_pixels(), n == 0 ? T(0) : T(1), dw, G.patch_size());
    if (dx) {
      // dcols (CKK, OHW) = W^T (CKK, F) x dy_n (F, OHW)
      gemm(true, false, G.patch_size(), G.out_pixels(), G.filters, T(1), w, G.patch_size(), dyn,
           G.out_pixels(), T(0), columns.data(), G.out_pixels());
      reference::col2im<G>(columns.data(), dx + n * G.input_size());
    }
  }
  if (batch == 0)
    for (std::size_t i = 0; i < G.filters * G.patch_size(); ++i) dw[i] = 0;
}

// Fully connected: x (B,In), w (Out,In), b (Out) => y (B,Out).
template <class T>
void dense_forward(const T* x, const T* w, const T* b, T* y, std::size_t batch, std::size_t in,
                   std::size_t out) {
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t o = 0; o < out; ++o) y[n * out + o] = b[o];
  gemm(false, true, batch, out, in, T(1), x, in, w, in, T(1), y, out);
}

// dw (Out,In) = dy^T x, db = column sums of dy, dx (B,In) = dy w (when non-null).
template <class T>
void dense_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t batch,
                    std::size_t in, std::size_t out) {
  gemm(true, false, out, in, batch, T(1), dy, out, x, in, T(0), dw, in);
  for (std::size_t o = 0; o < out; ++o) db[o] = 0;
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t o = 0; o < out; ++o) db[o] += dy[n * out + o];
  if (dx) gemm(false, false, batch, in, out, T(1), dy, out, w, in, T(0), dx, in);
}

using reference::avgpool_backward;
using reference::avgpool_forward;
using reference::batch_norm_backward;
using reference::batch_norm_forward_inference;
using reference::batch_norm_forward_train;
using reference::global_avgpool_backward;
using reference::global_avgpool_forward;
using reference::maxpool_backward;
using reference::maxpool_forward;

using reference::add_to;
using reference::leaky_relu_backward;
using reference::leaky_relu_forward;
using reference::multiply;
using reference::relu_backward;
using reference::relu_forward;
using reference::sigmoid_backward;
using reference::sigmoid_forward;
using reference::tanh_backward;
using reference::tanh_forward;

}  // namespace ctnn::kernels
