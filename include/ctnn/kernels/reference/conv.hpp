#pragma once
// Reference convolution: direct loops, the specification for the lowered/fast versions.
#include <cstddef>

#include "ctnn/kernels/geometry.hpp"

namespace ctnn::kernels::reference {

// x: (B,C,H,W)  w: (F,C,K,K)  b: (F)  =>  y: (B,F,OH,OW)
template <ConvGeometry G, class T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, std::size_t batch) {
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t f = 0; f < G.filters; ++f)
      for (std::size_t oy = 0; oy < G.out_height; ++oy)
        for (std::size_t ox = 0; ox < G.out_width; ++ox) {
          T sum = b[f];
          for (std::size_t c = 0; c < G.channels; ++c)
            for (std::size_t ky = 0; ky < G.kernel; ++ky)
              for (std::size_t kx = 0; kx < G.kernel; ++kx) {
                const std::ptrdiff_t iy = std::ptrdiff_t(oy * G.stride + ky) - std::ptrdiff_t(G.padding);
                const std::ptrdiff_t ix = std::ptrdiff_t(ox * G.stride + kx) - std::ptrdiff_t(G.padding);
                if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(G.height) || ix >= std::ptrdiff_t(G.width)) continue;
                sum += w[((f * G.channels + c) * G.kernel + ky) * G.kernel + kx] *
                       x[((n * G.channels + c) * G.height + iy) * G.width + ix];
              }
          y[((n * G.filters + f) * G.out_height + oy) * G.out_width + ox] = sum;
        }
}

// dy: (B,F,OH,OW)  =>  dw: (F,C,K,K), db: (F) overwritten; dx: (B,C,H,W) overwritten if non-null
template <ConvGeometry G, class T>
void conv2d_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t batch) {
  for (std::size_t i = 0; i < G.filters * G.patch_size(); ++i) dw[i] = 0;
  for (std::size_t f = 0; f < G.filters; ++f) db[f] = 0;
  if (dx)
    for (std::size_t i = 0; i < batch * G.input_size(); ++i) dx[i] = 0;
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t f = 0; f < G.filters; ++f)
      for (std::size_t oy = 0; oy < G.out_height; ++oy)
        for (std::size_t ox = 0; ox < G.out_width; ++ox) {
          const T g = dy[((n * G.filters + f) * G.out_height + oy) * G.out_width + ox];
          db[f] += g;
          for (std::size_t c = 0; c < G.channels; ++c)
            for (std::size_t ky = 0; ky < G.kernel; ++ky)
              for (std::size_t kx = 0; kx < G.kernel; ++kx) {
                const std::ptrdiff_t iy = std::ptrdiff_t(oy * G.stride + ky) - std::ptrdiff_t(G.padding);
                const std::ptrdiff_t ix = std::ptrdiff_t(ox * G.stride + kx) - std::ptrdiff_t(G.padding);
                if (iy < 0 || ix < 0 || iy >= std::ptrdiff_t(G.height) || ix >= std::ptrdiff_t(G.width)) continue;
                const std::size_t wi = ((f * G.channels + c) * G.kernel + ky) * G.kernel + kx;
                const std::size_t xi = ((n * G.channels + c) * G.height + iy) * G.width + ix;
                dw[wi] += g * x[xi];
                if (dx) dx[xi] += g * w[wi];
              }
        }
}

// One sample (C,H,W) => columns (C*K*K, OH*OW), zero where the window covers padding.
template <ConvGeometry G, class T>
void im2col(const T* x, T* col) {
  for (std::size_t c = 0; c < G.channels; ++c)
    for (std::size_t ky = 0; ky < G.kernel; ++ky)
      for (std::size_t kx = 0; kx < G.kernel; ++kx) {
        T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_pixels();
        for (std::size_t oy = 0; oy < G.out_height; ++oy) {
          const std::ptrdiff_t iy = std::ptrdiff_t(oy * G.stride + ky) - std::ptrdiff_t(G.padding);
          for (std::size_t ox = 0; ox < G.out_width; ++ox) {
            const std::ptrdiff_t ix = std::ptrdiff_t(ox * G.stride + kx) - std::ptrdiff_t(G.padding);
            const bool inside = iy >= 0 && ix >= 0 && iy < std::ptrdiff_t(G.height) && ix < std::ptrdiff_t(G.width);
            row[oy * G.out_width + ox] = inside ? x[(c * G.height + iy) * G.width + ix] : T(0);
          }
        }
      }
}

// Columns (C*K*K, OH*OW) => one sample (C,H,W), summing overlapping windows; dx is overwritten.
template <ConvGeometry G, class T>
void col2im(const T* col, T* dx) {
  for (std::size_t i = 0; i < G.input_size(); ++i) dx[i] = 0;
  for (std::size_t c = 0; c < G.channels; ++c)
    for (std::size_t ky = 0; ky < G.kernel; ++ky)
      for (std::size_t kx = 0; kx < G.kernel; ++kx) {
        const T* row = col + ((c * G.kernel + ky) * G.kernel + kx) * G.out_pixels();
        for (std::size_t oy = 0; oy < G.out_height; ++oy) {
          const std::ptrdiff_t iy = std::ptrdiff_t(oy * G.stride + ky) - std::ptrdiff_t(G.padding);
          if (iy < 0 || iy >= std::ptrdiff_t(G.height)) continue;
          for (std::size_t ox = 0; ox < G.out_width; ++ox) {
            const std::ptrdiff_t ix = std::ptrdiff_t(ox * G.stride + kx) - std::ptrdiff_t(G.padding);
            if (ix < 0 || ix >= std::ptrdiff_t(G.width)) continue;
            dx[(c * G.height + iy) * G.width + ix] += row[oy * G.out_width + ox];
          }
        }
      }
}

}  // namespace ctnn::kernels::reference
