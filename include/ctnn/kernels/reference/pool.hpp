#pragma once
// Reference pooling kernels. Max pooling records the winning input index per output so the
// backward pass routes the gradient without searching again. The winner is the first maximum
// in window order, or the first NaN (NaN propagates, as in PyTorch).
#include <cstddef>
#include <cstdint>
#include <limits>

#include "ctnn/kernels/geometry.hpp"

namespace ctnn::kernels::reference {

// x: (B,C,H,W) => y: (B,C,OH,OW), argmax: (B,C,OH,OW) indices into one sample's (C,H,W)
template <PoolGeometry G, class T>
void maxpool_forward(const T* x, T* y, std::uint32_t* argmax, std::size_t batch) {
  for (std::size_t n = 0; n < batch; ++n) {
    const T* xs = x + n * G.input_size();
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t oy = 0; oy < G.out_height; ++oy)
        for (std::size_t ox = 0; ox < G.out_width; ++ox) {
          std::size_t best = (c * G.height + oy * G.stride) * G.width + ox * G.stride;
          for (std::size_t ky = 0; ky < G.window; ++ky)
            for (std::size_t kx = 0; kx < G.window; ++kx) {
              const std::size_t i = (c * G.height + oy * G.stride + ky) * G.width + ox * G.stride + kx;
              if (xs[i] > xs[best] || (xs[i] != xs[i] && xs[best] == xs[best])) best = i;
            }
          const std::size_t o = n * G.output_size() + (c * G.out_height + oy) * G.out_width + ox;
          y[o] = xs[best];
          argmax[o] = static_cast<std::uint32_t>(best);
        }
  }
}

template <PoolGeometry G, class T>
void maxpool_backward(const T* dy, const std::uint32_t* argmax, T* dx, std::size_t batch) {
  for (std::size_t i = 0; i < batch * G.input_size(); ++i) dx[i] = 0;
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t o = 0; o < G.output_size(); ++o)
      dx[n * G.input_size() + argmax[n * G.output_size() + o]] += dy[n * G.output_size() + o];
}

template <PoolGeometry G, class T>
void avgpool_forward(const T* x, T* y, std::size_t batch) {
  const T scale = T(1) / T(G.window * G.window);
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t oy = 0; oy < G.out_height; ++oy)
        for (std::size_t ox = 0; ox < G.out_width; ++ox) {
          T sum = 0;
          for (std::size_t ky = 0; ky < G.window; ++ky)
            for (std::size_t kx = 0; kx < G.window; ++kx)
              sum += x[n * G.input_size() + (c * G.height + oy * G.stride + ky) * G.width + ox * G.stride + kx];
          y[n * G.output_size() + (c * G.out_height + oy) * G.out_width + ox] = sum * scale;
        }
}

template <PoolGeometry G, class T>
void avgpool_backward(const T* dy, T* dx, std::size_t batch) {
  const T scale = T(1) / T(G.window * G.window);
  for (std::size_t i = 0; i < batch * G.input_size(); ++i) dx[i] = 0;
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t oy = 0; oy < G.out_height; ++oy)
        for (std::size_t ox = 0; ox < G.out_width; ++ox) {
          const T g = dy[n * G.output_size() + (c * G.out_height + oy) * G.out_width + ox] * scale;
          for (std::size_t ky = 0; ky < G.window; ++ky)
            for (std::size_t kx = 0; kx < G.window; ++kx)
              dx[n * G.input_size() + (c * G.height + oy * G.stride + ky) * G.width + ox * G.stride + kx] += g;
        }
}

// (B,C,HW) => (B,C): mean over each channel's pixels.
template <class T>
void global_avgpool_forward(const T* x, T* y, std::size_t batch, std::size_t channels, std::size_t pixels) {
  for (std::size_t i = 0; i < batch * channels; ++i) {
    T sum = 0;
    for (std::size_t p = 0; p < pixels; ++p) sum += x[i * pixels + p];
    y[i] = sum / T(pixels);
  }
}

template <class T>
void global_avgpool_backward(const T* dy, T* dx, std::size_t batch, std::size_t channels, std::size_t pixels) {
  for (std::size_t i = 0; i < batch * channels; ++i) {
    const T g = dy[i] / T(pixels);
    for (std::size_t p = 0; p < pixels; ++p) dx[i * pixels + p] = g;
  }
}

}  // namespace ctnn::kernels::reference
