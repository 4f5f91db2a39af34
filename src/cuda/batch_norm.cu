// BatchNorm on the device over (B, C, P). Statistics: a block per channel (blocks stride over the
// channels), two passes (mean, then squared deviations) accumulated in double as the CPU
// reference does, in a fixed reduction order. Normalisation and the input gradient: one thread
// per value.
#include <cmath>

#include "common.cuh"
#include "ctnn/kernels/cuda/kernels.hpp"

namespace ctnn::kernels::cuda {

namespace {

constexpr int stats_threads = 1024;
constexpr std::size_t small = 0xffffffffu - 2u * 65536u * 256u;  // 32-bit indexing is enough

// Index of the i-th value of channel c, i over (batch, pixels).
template <class I>
__device__ inline I at(I i, I c, I channels, I pixels) {
  const I n = i / pixels, p = i - n * pixels;
  return (n * channels + c) * pixels + p;
}

template <class I>
__global__ void __launch_bounds__(stats_threads)
batch_stats(const float* __restrict__ x, float* __restrict__ mean,
                            float* __restrict__ inv_std, float* __restrict__ running_mean,
                            float* __restrict__ running_var, I batch, I channels, I pixels,
                            double epsilon, double momentum) {
  const I count = batch * pixels;
  for (I c = blockIdx.x; c < channels; c += gridDim.x) {  // block-uniform loop
    double sum = 0.0;
    for (I i = threadIdx.x; i < count; i += blockDim.x) sum += x[at(i, c, channels, pixels)];
    const double m = detail::block_sum(sum) / double(count);
    double sq = 0.0;
    for (I i = threadIdx.x; i < count; i += blockDim.x) {
      const double d = x[at(i, c, channels, pixels)] - m;
      sq += d * d;
    }
    const double var = detail::block_sum(sq) / double(count);
    if (threadIdx.x == 0) {
      mean[c] = float(m);
      inv_std[c] = float(1.0 / sqrt(var + epsilon));
      const double unbiased = count > 1 ? var * double(count) / double(count - 1) : var;
      running_mean[c] = float((1.0 - momentum) * running_mean[c] + momentum * m);
      running_var[c] = float((1.0 - momentum) * running_var[c] + momentum * unbiased);
    }
  }
}

// y = gamma (x - mean) inv_std + beta.
template <class I>
__global__ void normalize(const float* __restrict__ x, const float* __restrict__ gamma,
                          const float* __restrict__ beta, const float* __restrict__ mean,
                          const float* __restrict__ inv_std, float* __restrict__ y, I total,
                          I channels, I pixels) {
  for (I i = blockIdx.x * I(blockDim.x) + threadIdx.x; i < total; i += I(gridDim.x) * blockDim.x) {
    const I c = (i / pixels) % channels;
    y[i] = gamma[c] * (x[i] - mean[c]) * inv_std[c] + beta[c];
  }
}

template <class I>
__global__ void normalize_running(const float* __restrict__ x, const float* __restrict__ gamma,
                                  const float* __restrict__ beta,
                                  const float* __restrict__ running_mean,
                                  const float* __restrict__ running_var, float* __restrict__ y,
                                  I total, I channels, I pixels, double epsilon) {
  for (I i = blockIdx.x * I(blockDim.x) + threadIdx.x; i < total; i += I(gridDim.x) * blockDim.x) {
    const I c = (i / pixels) % channels;
    const float scale = float(gamma[c] / sqrt(double(running_var[c]) + epsilon));
    const float shift = beta[c] - running_mean[c] * scale;
    y[i] = x[i] * scale + shift;
  }
}

// dgamma[c] = sum dy * xhat, dbeta[c] = sum dy: one block per channel.
template <class I>
__global__ void __launch_bounds__(stats_threads)
backward_sums(const float* __restrict__ x, const float* __restrict__ mean,
                              const float* __restrict__ inv_std, const float* __restrict__ dy,
                              float* __restrict__ dgamma, float* __restrict__ dbeta, I batch,
                              I channels, I pixels) {
  const I count = batch * pixels;
  for (I c = blockIdx.x; c < channels; c += gridDim.x) {  // block-uniform loop
    const double m = mean[c], is = inv_std[c];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (I i = threadIdx.x; i < count; i += blockDim.x) {
      const I j = at(i, c, channels, pixels);
      sum_dy += dy[j];
      sum_dy_xhat += dy[j] * (x[j] - m) * is;
    }
    sum_dy = detail::block_sum(sum_dy);
    sum_dy_xhat = detail::block_sum(sum_dy_xhat);
    if (threadIdx.x == 0) {
      dgamma[c] = float(sum_dy_xhat);
      dbeta[c] = float(sum_dy);
    }
  }
}

// dx = gamma * inv_std / count * (count * dy - sum_dy - xhat * sum_dy_xhat).
template <class I>
__global__ void backward_input(const float* __restrict__ x, const float* __restrict__ gamma,
                               const float* __restrict__ mean, const float* __restrict__ inv_std,
                               const float* __restrict__ dy, const float* __restrict__ dgamma,
                               const float* __restrict__ dbeta, float* __restrict__ dx, I total,
                               I channels, I pixels, double count) {
  const float n = float(count);
  for (I i = blockIdx.x * I(blockDim.x) + threadIdx.x; i < total; i += I(gridDim.x) * blockDim.x) {
    const I c = (i / pixels) % channels;
    const float xhat = (x[i] - mean[c]) * inv_std[c];
    dx[i] = gamma[c] * inv_std[c] / n * (n * dy[i] - dbeta[c] - xhat * dgamma[c]);
  }
}

}  // namespace

void batch_norm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                              float* mean, float* inv_std, float* running_mean, float* running_var,
                              std::size_t batch, std::size_t channels, std::size_t pixels,
                              double epsilon, double momentum) {
  const std::size_t total = batch * channels * pixels;
  if (total == 0) return;
  const unsigned blocks = detail::blocks_for(total);
  if (total <= small) {
    batch_stats<unsigned><<<unsigned(channels), stats_threads>>>(
        x, mean, inv_std, running_mean, running_var, unsigned(batch), unsigned(channels),
        unsigned(pixels), epsilon, momentum);
    detail::check_launch("batch_norm statistics");
    normalize<unsigned><<<blocks, detail::threads_per_block>>>(
        x, gamma, beta, mean, inv_std, y, unsigned(total), unsigned(channels), unsigned(pixels));
  } else {
    batch_stats<std::size_t><<<unsigned(channels), stats_threads>>>(
        x, mean, inv_std, running_mean, running_var, batch, channels, pixels, epsilon, momentum);
    detail::check_launch("batch_norm statistics");
    normalize<std::size_t><<<blocks, detail::threads_per_block>>>(x, gamma, beta, mean, inv_std, y,
                                                                   total, channels, pixels);
  }
  detail::check_launch("batch_norm normalize");
}

void batch_norm_forward_inference(const float* x, const float* gamma, const float* beta, float* y,
                                  const float* running_mean, const float* running_var,
                                  std::size_t batch, std::size_t channels, std::size_t pixels,
                                  double epsilon) {
  const std::size_t total = batch * channels * pixels;
  if (total == 0) return;
  const unsigned blocks = detail::blocks_for(total);
  if (total <= small)
    normalize_running<unsigned><<<blocks, detail::threads_per_block>>>(
        x, gamma, beta, running_mean, running_var, y, unsigned(total), unsigned(channels),
        unsigned(pixels), epsilon);
  else
    normalize_running<std::size_t><<<blocks, detail::threads_per_block>>>(
        x, gamma, beta, running_mean, running_var, y, total, channels, pixels, epsilon);
  detail::check_launch("batch_norm inference");
}

void batch_norm_backward(const float* x, const float* gamma, const float* mean,
                         const float* inv_std, const float* dy, float* dx, float* dgamma,
                         float* dbeta, std::size_t batch, std::size_t channels,
                         std::size_t pixels) {
  if (channels == 0) return;
  const std::size_t total = batch * channels * pixels;
  const double count = double(batch * pixels);
  const unsigned blocks = detail::blocks_for(total);
  if (total <= small) {
    backward_sums<unsigned><<<unsigned(channels), stats_threads>>>(
        x, mean, inv_std, dy, dgamma, dbeta, unsigned(batch), unsigned(channels), unsigned(pixels));
    detail::check_launch("batch_norm backward sums");
    if (dx && total)
      backward_input<unsigned><<<blocks, detail::threads_per_block>>>(
          x, gamma, mean, inv_std, dy, dgamma, dbeta, dx, unsigned(total), unsigned(channels),
          unsigned(pixels), count);
  } else {
    backward_sums<std::size_t><<<unsigned(channels), stats_threads>>>(
        x, mean, inv_std, dy, dgamma, dbeta, batch, channels, pixels);
    detail::check_launch("batch_norm backward sums");
    if (dx)
      backward_input<std::size_t><<<blocks, detail::threads_per_block>>>(
          x, gamma, mean, inv_std, dy, dgamma, dbeta, dx, total, channels, pixels, count);
  }
  detail::check_launch("batch_norm backward input");
}

}  // namespace ctnn::kernels::cuda
