// Losses on the device, plus the reductions behind the regularizers' penalties. The batch is
// small next to the activations, so each loss runs as one block: thread t takes samples t,
// t + blockDim, ..., and a fixed-order block reduction adds the batch's loss and correct count
// to metrics (double), so the result does not depend on scheduling.
#include <cmath>

#include "common.cuh"
#include "ctnn/kernels/cuda/kernels.hpp"

namespace ctnn::kernels::cuda {

namespace {

constexpr int loss_threads = 256;

// Index of the largest value of row z (the first one on ties), as ctnn::count_correct.
__device__ inline std::size_t arg_max(const float* z, std::size_t classes) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < classes; ++c)
    if (z[c] > z[best]) best = c;
  return best;
}

__global__ void __launch_bounds__(loss_threads)
softmax_cross_entropy_kernel(const float* __restrict__ logits,
                                             const std::int32_t* __restrict__ labels,
                                             std::size_t batch, std::size_t classes,
                                             float* __restrict__ grad, double* metrics) {
  double loss = 0.0, correct = 0.0;
  for (std::size_t n = threadIdx.x; n < batch; n += blockDim.x) {
    const float* z = logits + n * classes;
    const std::size_t label = std::size_t(labels[n]);
    float top = z[0];
    for (std::size_t c = 1; c < classes; ++c) top = z[c] > top ? z[c] : top;  // for stability
    double sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) sum += exp(double(z[c] - top));
    const double log_sum = log(sum) + double(top);
    loss += log_sum - double(z[label]);
    correct += arg_max(z, classes) == label ? 1.0 : 0.0;
    if (grad) {
      float* g = grad + n * classes;
      for (std::size_t c = 0; c < classes; ++c) g[c] = float(exp(double(z[c]) - log_sum) / double(batch));
      g[label] -= float(1.0 / double(batch));
    }
  }
  loss = detail::block_sum(loss);
  correct = detail::block_sum(correct);
  if (threadIdx.x == 0) metrics[0] += loss, metrics[1] += correct;
}

// target == nullptr: one-hot targets from labels (and a correct count); else real targets.
__global__ void __launch_bounds__(loss_threads)
mean_squared_error_kernel(const float* __restrict__ out,
                                          const std::int32_t* __restrict__ labels,
                                          const float* __restrict__ target, std::size_t batch,
                                          std::size_t width, float* __restrict__ grad,
                                          double* metrics) {
  const double n_all = double(batch) * double(width);
  double loss = 0.0, correct = 0.0;
  for (std::size_t n = threadIdx.x; n < batch; n += blockDim.x) {
    const float* o = out + n * width;
    double sample = 0.0;
    for (std::size_t c = 0; c < width; ++c) {
      const double t = target ? double(target[n * width + c])
                              : (std::size_t(labels[n]) == c ? 1.0 : 0.0);
      const double d = double(o[c]) - t;
      sample += d * d;
      if (grad) grad[n * width + c] = float(2.0 * d / n_all);
    }
    loss += sample / double(width);
    if (!target) correct += arg_max(o, width) == std::size_t(labels[n]) ? 1.0 : 0.0;
  }
  loss = detail::block_sum(loss);
  correct = detail::block_sum(correct);
  if (threadIdx.x == 0) {
    metrics[0] += loss;
    if (!target) metrics[1] += correct;
  }
}

// *result = sum of f(x[i]) over n values: one block, fixed order.
template <bool Squares>
__global__ void __launch_bounds__(1024)
sum_kernel(const float* __restrict__ x, std::size_t n, double* result) {
  double sum = 0.0;
  for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) {
    const double v = x[i];
    sum += Squares ? v * v : fabs(v);
  }
  sum = detail::block_sum(sum);
  if (threadIdx.x == 0) *result = sum;
}

template <bool Squares>
double reduce(const float* x, std::size_t n) {
  if (n == 0) return 0.0;
  static DeviceBuffer<double> result(1);  // one double for the process, kept for reuse
  sum_kernel<Squares><<<1, 1024>>>(x, n, result.data());
  detail::check_launch(Squares ? "sum_of_squares" : "sum_of_abs");
  double host = 0.0;
  result.download(&host, 1);
  return host;
}

}  // namespace

void softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t batch,
                           std::size_t classes, float* grad, double* metrics) {
  if (batch == 0) return;
  softmax_cross_entropy_kernel<<<1, loss_threads>>>(logits, labels, batch, classes, grad, metrics);
  detail::check_launch("softmax_cross_entropy");
}

void mean_squared_error(const float* out, const std::int32_t* labels, std::size_t batch,
                        std::size_t width, float* grad, double* metrics) {
  if (batch == 0) return;
  mean_squared_error_kernel<<<1, loss_threads>>>(out, labels, nullptr, batch, width, grad, metrics);
  detail::check_launch("mean_squared_error");
}

void mean_squared_error_target(const float* out, const float* target, std::size_t batch,
                               std::size_t width, float* grad, double* metrics) {
  if (batch == 0) return;
  mean_squared_error_kernel<<<1, loss_threads>>>(out, nullptr, target, batch, width, grad, metrics);
  detail::check_launch("mean_squared_error");
}

double sum_of_squares(const float* x, std::size_t n) { return reduce<true>(x, n); }
double sum_of_abs(const float* x, std::size_t n) { return reduce<false>(x, n); }

}  // namespace ctnn::kernels::cuda
