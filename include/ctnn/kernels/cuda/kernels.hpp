#pragma once
// The CUDA kernel boundary: launchers the device layers (ctnn/cuda/device_layers.hpp) call, each
// the device twin of a CPU kernel in kernels/kernels.hpp with the same meaning and layouts
// (docs/design.md), in float, with runtime geometry. Pure C++ declarations; the definitions are
// compiled by nvcc from src/cuda/*.cu into the library ctnn::cuda.
//
// Every pointer is device memory unless its name ends in _host. Every launcher is asynchronous
// (stream-ordered, see runtime.hpp) and throws ctnn::cuda::CudaError if the launch fails.
// As on the CPU, "backward" launchers overwrite parameter gradients (no accumulation) and write
// dx only when it is non-null.
#include <cstddef>
#include <cstdint>

#include "ctnn/kernels/cuda/runtime.hpp"
#include "ctnn/kernels/geometry.hpp"

namespace ctnn::kernels::cuda {

// ---------------------------------------------------------------------------------------------
// GEMM (cuBLAS sgemm), row-major with BLAS semantics: C = alpha * op(A) * op(B) + beta * C.
// op(A): (M,K), stored (M,K) with leading dimension lda, or (K,M) when trans_a; likewise B (K,N).
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
          std::size_t ldc);

// ---------------------------------------------------------------------------------------------
// Convolution lowered to GEMM over chunks of samples. `workspace` holds `workspace_size` floats,
// at least conv2d_workspace_per_sample(g) (one sample per chunk); more lets a chunk hold more
// samples, so fewer and larger GEMMs run.
//   columns (C*K*K, n*OH*OW)  +  output/gradient in filter-major order (F, n*OH*OW)
constexpr std::size_t conv2d_workspace_per_sample(const ConvGeometry& g) {
  return (g.patch_size() + g.filters) * g.out_pixels();
}

// x: (B,C,H,W)  w: (F,C,K,K)  b: (F)  =>  y: (B,F,OH,OW)
void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y,
                    std::size_t batch, float* workspace, std::size_t workspace_size);

// dy: (B,F,OH,OW)  =>  dw: (F,C,K,K), db: (F) overwritten; dx: (B,C,H,W) overwritten if non-null
void conv2d_backward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db, std::size_t batch, float* workspace,
                     std::size_t workspace_size);

// ---------------------------------------------------------------------------------------------
// Fully connected. x: (B,In)  w: (Out,In)  b: (Out)  =>  y: (B,Out)
void dense_forward(const float* x, const float* w, const float* b, float* y, std::size_t batch,
                   std::size_t in, std::size_t out);
// dw (Out,In) = dy^T x, db (Out) = column sums of dy, dx (B,In) = dy w when non-null.
void dense_backward(const float* x, const float* w, const float* dy, float* dx, float* dw,
                    float* db, std::size_t batch, std::size_t in, std::size_t out);

// ---------------------------------------------------------------------------------------------
// Pooling (no padding, as the CPU kernels). argmax: (B,C,OH,OW), the winning index inside one
// sample's (C,H,W), the first maximum in row-major window order as on the CPU.
void maxpool_forward(const PoolGeometry& g, const float* x, float* y, std::uint32_t* argmax,
                     std::size_t batch);
void maxpool_backward(const PoolGeometry& g, const float* dy, const std::uint32_t* argmax,
                      float* dx, std::size_t batch);
void avgpool_forward(const PoolGeometry& g, const float* x, float* y, std::size_t batch);
void avgpool_backward(const PoolGeometry& g, const float* dy, float* dx, std::size_t batch);
// (B,C,P) => (B,C): mean over each channel's P pixels; backward spreads dy / P.
void global_avgpool_forward(const float* x, float* y, std::size_t batch, std::size_t channels,
                            std::size_t pixels);
void global_avgpool_backward(const float* dy, float* dx, std::size_t batch, std::size_t channels,
                             std::size_t pixels);

// ---------------------------------------------------------------------------------------------
// Elementwise over n values.
void relu_forward(const float* x, float* y, std::size_t n);
void relu_backward(const float* x, const float* dy, float* dx, std::size_t n);
void leaky_relu_forward(const float* x, float* y, std::size_t n, float slope);
void leaky_relu_backward(const float* x, const float* dy, float* dx, std::size_t n, float slope);
void sigmoid_forward(const float* x, float* y, std::size_t n);
void sigmoid_backward(const float* y, const float* dy, float* dx, std::size_t n);  // uses y
void tanh_forward(const float* x, float* y, std::size_t n);
void tanh_backward(const float* y, const float* dy, float* dx, std::size_t n);     // uses y
void add_to(const float* x, float* y, std::size_t n);                            // y += x
void scale(float* x, std::size_t n, float factor);                               // x *= factor
void add_scaled(const float* x, float* y, std::size_t n, float alpha);           // y += alpha x
void add_scaled_sign(const float* x, float* y, std::size_t n, float alpha);  // y += alpha sign(x)

// Inverted dropout with a counter-based hash instead of stored masks: unit i of a pass with
// `seed` is dropped iff hash(seed, i) < p, survivors are scaled by 1/(1-p). backward with the same
// seed applies the same mask to dy.
void dropout_forward(const float* x, float* y, std::size_t n, float p, std::uint64_t seed);
void dropout_backward(const float* dy, float* dx, std::size_t n, float p, std::uint64_t seed);

// ---------------------------------------------------------------------------------------------
// BatchNorm over (B, C, P), statistics per channel (P = 1 for flat inputs), PyTorch semantics
// (biased variance normalises, the running variance takes the unbiased one).
void batch_norm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                              float* mean, float* inv_std, float* running_mean, float* running_var,
                              std::size_t batch, std::size_t channels, std::size_t pixels,
                              double epsilon, double momentum);
void batch_norm_forward_inference(const float* x, const float* gamma, const float* beta, float* y,
                                  const float* running_mean, const float* running_var,
                                  std::size_t batch, std::size_t channels, std::size_t pixels,
                                  double epsilon);
// dgamma, dbeta overwritten; dx overwritten if non-null. mean, inv_std from the training forward.
void batch_norm_backward(const float* x, const float* gamma, const float* mean,
                         const float* inv_std, const float* dy, float* dx, float* dgamma,
                         float* dbeta, std::size_t batch, std::size_t channels,
                         std::size_t pixels);

// ---------------------------------------------------------------------------------------------
// Losses. Each adds the batch's *sum* of per-sample losses to metrics[0] and its number of
// correct predictions (arg-max at the label, first maximum wins) to metrics[1], so evaluation
// sums over many batches on the device and copies two numbers back once. grad (nullable) gets
// d(mean loss)/d(output), as the CPU losses write it. labels: (B) int32 class indices.
void softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t batch,
                           std::size_t classes, float* grad, double* metrics);
// Mean over B x width of (out - onehot(label))^2.
void mean_squared_error(const float* out, const std::int32_t* labels, std::size_t batch,
                        std::size_t width, float* grad, double* metrics);
// Mean over B x width of (out - target)^2 with real targets (B, width); metrics[1] untouched.
void mean_squared_error_target(const float* out, const float* target, std::size_t batch,
                               std::size_t width, float* grad, double* metrics);

// ---------------------------------------------------------------------------------------------
// Optimizer updates over n parameters, the formulas of train/sgd.hpp, adam.hpp, rmsprop.hpp.
// Sgd: momentum 0 ignores buf; otherwise buf = mu buf + g; d = nesterov ? g + mu buf : buf.
void sgd_step(float* w, const float* g, float* buf, std::size_t n, double lr, double momentum,
              bool nesterov);
// Adam with step number `step` (already incremented, >= 1).
void adam_step(float* w, const float* g, float* exp_avg, float* exp_avg_sq, std::size_t n,
               double lr, double beta1, double beta2, double epsilon, std::uint64_t step);
// RmsProp; buf is ignored when momentum is 0.
void rmsprop_step(float* w, const float* g, float* square_avg, float* buf, std::size_t n,
                  double lr, double alpha, double epsilon, double momentum);

// Reductions for the regularizers' penalties (synchronous: they return host values).
double sum_of_squares(const float* x, std::size_t n);
double sum_of_abs(const float* x, std::size_t n);

}  // namespace ctnn::kernels::cuda
