// Optimizer updates on the device: one thread per parameter, the same formulas and the same
// float operation order as the CPU optimizers (train/sgd.hpp, adam.hpp, rmsprop.hpp); the
// step-dependent constants are computed on the host in double, as there.
#include <cmath>

#include "common.cuh"
#include "ctnn/kernels/cuda/kernels.hpp"

namespace ctnn::kernels::cuda {

namespace {

__global__ void sgd_kernel(float* __restrict__ w, const float* __restrict__ g,
                           float* __restrict__ buf, std::size_t n, float neg_lr, float mu,
                           int mode /* 0 plain, 1 momentum, 2 nesterov */) {
  for (std::size_t i = detail::global_index(); i < n; i += detail::global_stride()) {
    if (mode == 0) {
      w[i] += neg_lr * g[i];
    } else {
      const float b = buf[i] * mu + g[i];
      buf[i] = b;
      w[i] += neg_lr * (mode == 2 ? g[i] + mu * b : b);
    }
  }
}

__global__ void adam_kernel(float* __restrict__ w, const float* __restrict__ g,
                            float* __restrict__ m, float* __restrict__ v, std::size_t n,
                            float neg_step_size, float bias_correction2_sqrt, float b1,
                            float one_minus_b1, float b2, float one_minus_b2, float eps) {
  for (std::size_t i = detail::global_index(); i < n; i += detail::global_stride()) {
    const float gi = g[i];
    const float mi = m[i] * b1 + one_minus_b1 * gi;
    const float vi = v[i] * b2 + one_minus_b2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float denom = sqrtf(vi) / bias_correction2_sqrt + eps;
    w[i] += neg_step_size * mi / denom;
  }
}

__global__ void rmsprop_kernel(float* __restrict__ w, const float* __restrict__ g,
                               float* __restrict__ s, float* __restrict__ buf, std::size_t n,
                               float neg_lr, float alpha, float one_minus_alpha, float eps,
                               float mu, bool momentum) {
  for (std::size_t i = detail::global_index(); i < n; i += detail::global_stride()) {
    const float gi = g[i];
    const float si = s[i] * alpha + one_minus_alpha * gi * gi;
    s[i] = si;
    const float avg = sqrtf(si) + eps;
    if (momentum) {
      const float b = buf[i] * mu + gi / avg;
      buf[i] = b;
      w[i] += neg_lr * b;
    } else {
      w[i] += neg_lr * gi / avg;
    }
  }
}

}  // namespace

void sgd_step(float* w, const float* g, float* buf, std::size_t n, double lr, double momentum,
              bool nesterov) {
  if (n == 0) return;
  const int mode = momentum == 0.0 ? 0 : (nesterov ? 2 : 1);
  sgd_kernel<<<detail::blocks_for(n), detail::threads_per_block>>>(w, g, buf, n, float(-lr),
                                                                   float(momentum), mode);
  detail::check_launch("sgd_step");
}

void adam_step(float* w, const float* g, float* exp_avg, float* exp_avg_sq, std::size_t n,
               double lr, double beta1, double beta2, double epsilon, std::uint64_t step) {
  if (n == 0) return;
  const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  adam_kernel<<<detail::blocks_for(n), detail::threads_per_block>>>(
      w, g, exp_avg, exp_avg_sq, n, float(-(lr / bias_correction1)),
      float(std::sqrt(bias_correction2)), float(beta1), float(1.0 - beta1), float(beta2),
      float(1.0 - beta2), float(epsilon));
  detail::check_launch("adam_step");
}

void rmsprop_step(float* w, const float* g, float* square_avg, float* buf, std::size_t n,
                  double lr, double alpha, double epsilon, double momentum) {
  if (n == 0) return;
  rmsprop_kernel<<<detail::blocks_for(n), detail::threads_per_block>>>(
      w, g, square_avg, buf, n, float(-lr), float(alpha), float(1.0 - alpha), float(epsilon),
      float(momentum), momentum > 0.0);
  detail::check_launch("rmsprop_step");
}

}  // namespace ctnn::kernels::cuda
