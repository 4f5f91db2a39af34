// Elementwise kernels: activations, sums and scalings, and dropout with a counter-based hash.
// One thread per value in a grid-stride loop.
#include "common.cuh"
#include "ctnn/kernels/cuda/kernels.hpp"

namespace ctnn::kernels::cuda {

namespace {

// Applies f(i) for i in [0, n).
template <class F>
__global__ void for_each_index(std::size_t n, F f) {
  for (std::size_t i = detail::global_index(); i < n; i += detail::global_stride()) f(i);
}

template <class F>
void launch(std::size_t n, F f, const char* name) {
  if (n == 0) return;
  for_each_index<<<detail::blocks_for(n), detail::threads_per_block>>>(n, f);
  detail::check_launch(name);
}

// splitmix64's finaliser over (seed, i): 24 uniform bits => [0, 1). Stateless, so backward
// recomputes the forward's mask instead of storing it.
__device__ inline float hash_uniform(std::uint64_t seed, std::size_t i) {
  std::uint64_t z = seed + (std::uint64_t(i) + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return float(z >> 40) * 0x1.0p-24f;
}

}  // namespace

void relu_forward(const float* x, float* y, std::size_t n) {
  launch(n, [=] __device__(std::size_t i) { y[i] = x[i] < 0.0f ? 0.0f : x[i]; }, "relu_forward");
}
void relu_backward(const float* x, const float* dy, float* dx, std::size_t n) {
  launch(n, [=] __device__(std::size_t i) { dx[i] = x[i] > 0.0f ? dy[i] : 0.0f; }, "relu_backward");
}

void leaky_relu_forward(const float* x, float* y, std::size_t n, float slope) {
  launch(n, [=] __device__(std::size_t i) { y[i] = x[i] > 0.0f ? x[i] : slope * x[i]; },
         "leaky_relu_forward");
}
void leaky_relu_backward(const float* x, const float* dy, float* dx, std::size_t n, float slope) {
  launch(n, [=] __device__(std::size_t i) { dx[i] = x[i] > 0.0f ? dy[i] : slope * dy[i]; },
         "leaky_relu_backward");
}

void sigmoid_forward(const float* x, float* y, std::size_t n) {
  launch(n, [=] __device__(std::size_t i) { y[i] = 1.0f / (1.0f + expf(-x[i])); }, "sigmoid_forward");
}
void sigmoid_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  launch(n, [=] __device__(std::size_t i) { dx[i] = dy[i] * y[i] * (1.0f - y[i]); },
         "sigmoid_backward");
}

void tanh_forward(const float* x, float* y, std::size_t n) {
  launch(n, [=] __device__(std::size_t i) { y[i] = tanhf(x[i]); }, "tanh_forward");
}
void tanh_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  launch(n, [=] __device__(std::size_t i) { dx[i] = dy[i] * (1.0f - y[i] * y[i]); }, "tanh_backward");
}

void add_to(const float* x, float* y, std::size_t n) {
  launch(n, [=] __device__(std::size_t i) { y[i] += x[i]; }, "add_to");
}
void scale(float* x, std::size_t n, float factor) {
  launch(n, [=] __device__(std::size_t i) { x[i] *= factor; }, "scale");
}
void add_scaled(const float* x, float* y, std::size_t n, float alpha) {
  launch(n, [=] __device__(std::size_t i) { y[i] += alpha * x[i]; }, "add_scaled");
}
void add_scaled_sign(const float* x, float* y, std::size_t n, float alpha) {
  launch(n, [=] __device__(std::size_t i) {
    y[i] += alpha * (float(x[i] > 0.0f) - float(x[i] < 0.0f));
  }, "add_scaled_sign");
}

void dropout_forward(const float* x, float* y, std::size_t n, float p, std::uint64_t seed) {
  const float keep_scale = 1.0f / (1.0f - p);
  launch(n, [=] __device__(std::size_t i) {
    y[i] = hash_uniform(seed, i) < p ? 0.0f : x[i] * keep_scale;
  }, "dropout_forward");
}
void dropout_backward(const float* dy, float* dx, std::size_t n, float p, std::uint64_t seed) {
  const float keep_scale = 1.0f / (1.0f - p);
  launch(n, [=] __device__(std::size_t i) {
    dx[i] = hash_uniform(seed, i) < p ? 0.0f : dy[i] * keep_scale;
  }, "dropout_backward");
}

}  // namespace ctnn::kernels::cuda
