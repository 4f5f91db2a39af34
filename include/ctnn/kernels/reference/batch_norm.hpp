#pragma once
// Reference batch normalisation over (B, C, P): statistics per channel c over the batch and the
// P pixels (P = 1 for flat inputs). PyTorch semantics: biased variance normalises, the running
// variance is updated with the unbiased one.
#include <cmath>
#include <cstddef>

namespace ctnn::kernels::reference {

struct BatchNormSettings {
  double epsilon = 1e-5;
  double momentum = 0.1;
};

// After a training pass: mean and (biased) variance of `count` values move the running
// statistics, the variance unbiased as PyTorch does.
template <class T>
void update_running_statistics(T& running_mean, T& running_var, double mean, double var,
                               double count, BatchNormSettings s) {
  const double unbiased = count > 1 ? var * count / (count - 1) : var;
  running_mean = T((1 - s.momentum) * running_mean + s.momentum * mean);
  running_var = T((1 - s.momentum) * running_var + s.momentum * unbiased);
}

// Training: normalise with the batch statistics, save mean and 1/std for backward, update the
// running statistics.
template <class T>
void batch_norm_forward_train(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* inv_std,
                              T* running_mean, T* running_var, std::size_t batch,
                              std::size_t channels, std::size_t pixels, BatchNormSettings s) {
  const double count = double(batch * pixels);
  for (std::size_t c = 0; c < channels; ++c) {
    double sum = 0, sum_sq = 0;
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t p = 0; p < pixels; ++p) sum += x[(n * channels + c) * pixels + p];
    const double m = sum / count;
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t p = 0; p < pixels; ++p) {
        const double d = x[(n * channels + c) * pixels + p] - m;
        sum_sq += d * d;
      }
    const double var = sum_sq / count;
    const double is = 1.0 / std::sqrt(var + s.epsilon);
    mean[c] = T(m);
    inv_std[c] = T(is);
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t i = (n * channels + c) * pixels + p;
        y[i] = T(double(gamma[c]) * (x[i] - m) * is + double(beta[c]));
      }
    update_running_statistics(running_mean[c], running_var[c], m, var, count, s);
  }
}

template <class T>
void batch_norm_forward_inference(const T* x, const T* gamma, const T* beta, T* y,
                                  const T* running_mean, const T* running_var, std::size_t batch,
                                  std::size_t channels, std::size_t pixels, BatchNormSettings s) {
  for (std::size_t c = 0; c < channels; ++c) {
    const T scale = T(gamma[c] / std::sqrt(double(running_var[c]) + s.epsilon));
    const T shift = beta[c] - running_mean[c] * scale;
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t i = (n * channels + c) * pixels + p;
        y[i] = x[i] * scale + shift;
      }
  }
}

// dgamma, dbeta overwritten; dx overwritten if non-null.
template <class T>
void batch_norm_backward(const T* x, const T* gamma, const T* mean, const T* inv_std, const T* dy,
                         T* dx, T* dgamma, T* dbeta, std::size_t batch, std::size_t channels,
                         std::size_t pixels) {
  const double count = double(batch * pixels);
  for (std::size_t c = 0; c < channels; ++c) {
    double sum_dy = 0, sum_dy_xhat = 0;
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t i = (n * channels + c) * pixels + p;
        const double xhat = (x[i] - mean[c]) * double(inv_std[c]);
        sum_dy += dy[i];
        sum_dy_xhat += dy[i] * xhat;
      }
    dgamma[c] = T(sum_dy_xhat);
    dbeta[c] = T(sum_dy);
    if (!dx) continue;
    const double k = double(gamma[c]) * inv_std[c] / count;
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t i = (n * channels + c) * pixels + p;
        const double xhat = (x[i] - mean[c]) * double(inv_std[c]);
        dx[i] = T(k * (count * dy[i] - sum_dy - xhat * sum_dy_xhat));
      }
  }
}

}  // namespace ctnn::kernels::reference
