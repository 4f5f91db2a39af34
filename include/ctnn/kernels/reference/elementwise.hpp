#pragma once
// Reference elementwise kernels: activations and the residual sum.
#include <cmath>
#include <cstddef>

namespace ctnn::kernels::reference {

// NaN stays NaN (as PyTorch): a diverging net must not look healthy after a Relu.
template <class T>
void relu_forward(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];
}
template <class T>
void relu_backward(const T* x, const T* dy, T* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
}

template <class T>
void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : slope * x[i];
}
template <class T>
void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : slope * dy[i];
}

template <class T>
void sigmoid_forward(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
}
// Uses the output: sigma' = y (1 - y).
template <class T>
void sigmoid_backward(const T* y, const T* dy, T* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
}

template <class T>
void tanh_forward(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
// Uses the output: tanh' = 1 - y^2.
template <class T>
void tanh_backward(const T* y, const T* dy, T* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
}

// y = x * mask, where mask already holds 0 or 1/(1-p) (inverted dropout).
template <class T>
void multiply(const T* x, const T* mask, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * mask[i];
}

// y += x
template <class T>
void add_to(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace ctnn::kernels::reference
