#pragma once
// Batch normalisation on the CPU: the reference's formulas (kernels/reference/batch_norm.hpp),
// channels split over threads, each channel's rows of pixels vectorized (xsimd), sums of each
// row in float vectors and across rows in double, as the reference accumulates. Flat inputs
// (one pixel per channel: rows of length 1) go to the reference.
#include <cmath>
#include <cstddef>

#include "ctnn/kernels/cpu/elementwise.hpp"
#include "ctnn/kernels/cpu/parallel.hpp"
#include "ctnn/kernels/cpu/simd.hpp"
#include "ctnn/kernels/reference/batch_norm.hpp"

namespace ctnn::kernels::cpu {
namespace detail {

// sum over i < n of (x[i] - m)^2 and of a[i] * (x[i] - m), on the calling thread
template <class T>
inline void centred_sums(const T* x, const T* a, T m, std::size_t n, double& squares, double& products) {
  std::size_t i = 0;
  T sq = T(0), pr = T(0);
  if constexpr (has_simd<T>) {
    using V = simd<T>;
    V s(T(0)), p(T(0));
    const V mv(m);
    for (const std::size_t whole = n - n % V::size; i < whole; i += V::size) {
      const V d = V::load_unaligned(x + i) - mv;
      s = xsimd::fma(d, d, s);
      if (a) p = xsimd::fma(V::load_unaligned(a + i), d, p);
    }
    sq = xsimd::hadd(s), pr = xsimd::hadd(p);
  }
  for (; i < n; ++i) {
    const T d = x[i] - m;
    sq += d * d;
    if (a) pr += a[i] * d;
  }
  squares += double(sq), products += double(pr);
}

// y[i] = x[i] * scale + shift for i < n, on the calling thread
template <class T>
inline void scale_shift(const T* x, T* y, T scale, T shift, std::size_t n) {
  std::size_t i = 0;
  if constexpr (has_simd<T>) {
    using V = simd<T>;
    const V a(scale), b(shift);
    for (const std::size_t whole = n - n % V::size; i < whole; i += V::size)
      xsimd::fma(V::load_unaligned(x + i), a, b).store_unaligned(y + i);
  }
  for (; i < n; ++i) y[i] = x[i] * scale + shift;
}

}  // namespace detail

template <class T>
void batch_norm_forward_train(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* inv_std,
                              T* running_mean, T* running_var, std::size_t batch,
                              std::size_t channels, std::size_t pixels,
                              reference::BatchNormSettings s) {
  if (pixels == 1) {
    reference::batch_norm_forward_train(x, gamma, beta, y, mean, inv_std, running_mean, running_var,
                                        batch, channels, pixels, s);
    return;
  }
  const double count = double(batch * pixels);
  parallel_ranges(channels, parts_for(channels, 3 * batch * pixels),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t c = begin; c < end; ++c) {
      double total = 0, squares = 0, unused = 0;
      for (std::size_t n = 0; n < batch; ++n) total += double(sum(x + (n * channels + c) * pixels, pixels));
      const double m = total / count;
      for (std::size_t n = 0; n < batch; ++n)
        detail::centred_sums(x + (n * channels + c) * pixels, static_cast<const T*>(nullptr), T(m),
                             pixels, squares, unused);
      const double var = squares / count;
      const double is = 1.0 / std::sqrt(var + s.epsilon);
      mean[c] = T(m);
      inv_std[c] = T(is);
      const T scale = T(double(gamma[c]) * is), shift = T(double(beta[c]) - m * double(gamma[c]) * is);
      for (std::size_t n = 0; n < batch; ++n)
        detail::scale_shift(x + (n * channels + c) * pixels, y + (n * channels + c) * pixels, scale,
                            shift, pixels);
      reference::update_running_statistics(running_mean[c], running_var[c], m, var, count, s);
    }
  });
}

template <class T>
void batch_norm_forward_inference(const T* x, const T* gamma, const T* beta, T* y,
                                  const T* running_mean, const T* running_var, std::size_t batch,
                                  std::size_t channels, std::size_t pixels,
                                  reference::BatchNormSettings s) {
  if (pixels == 1) {
    reference::batch_norm_forward_inference(x, gamma, beta, y, running_mean, running_var, batch,
                                            channels, pixels, s);
    return;
  }
  parallel_ranges(channels, parts_for(channels, batch * pixels),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t c = begin; c < end; ++c) {
      const T scale = T(gamma[c] / std::sqrt(double(running_var[c]) + s.epsilon));
      const T shift = beta[c] - running_mean[c] * scale;
      for (std::size_t n = 0; n < batch; ++n)
        detail::scale_shift(x + (n * channels + c) * pixels, y + (n * channels + c) * pixels, scale,
                            shift, pixels);
    }
  });
}

// dgamma, dbeta overwritten; dx overwritten if non-null.
template <class T>
void batch_norm_backward(const T* x, const T* gamma, const T* mean, const T* inv_std, const T* dy,
                         T* dx, T* dgamma, T* dbeta, std::size_t batch, std::size_t channels,
                         std::size_t pixels) {
  if (pixels == 1) {
    reference::batch_norm_backward(x, gamma, mean, inv_std, dy, dx, dgamma, dbeta, batch, channels,
                                   pixels);
    return;
  }
  const double count = double(batch * pixels);
  parallel_ranges(channels, parts_for(channels, 3 * batch * pixels),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t c = begin; c < end; ++c) {
      double sum_dy = 0, unused = 0, sum_dy_centred = 0;
      for (std::size_t n = 0; n < batch; ++n) {
        const std::size_t row = (n * channels + c) * pixels;
        sum_dy += double(sum(dy + row, pixels));
        detail::centred_sums(x + row, dy + row, mean[c], pixels, unused, sum_dy_centred);
      }
      const double sum_dy_xhat = sum_dy_centred * double(inv_std[c]);
      dgamma[c] = T(sum_dy_xhat);
      dbeta[c] = T(sum_dy);
      if (!dx) continue;
      // dx = k (count dy - sum_dy - xhat sum_dy_xhat), xhat = (x - mean) inv_std: dx = a dy + b x + d
      const double k = double(gamma[c]) * inv_std[c] / count;
      const double is = inv_std[c];
      const T a = T(k * count), b = T(-k * is * sum_dy_xhat);
      const T d = T(-k * sum_dy + k * is * sum_dy_xhat * double(mean[c]));
      for (std::size_t n = 0; n < batch; ++n) {
        const std::size_t row = (n * channels + c) * pixels;
        std::size_t i = 0;
        if constexpr (has_simd<T>) {
          using V = simd<T>;
          const V av(a), bv(b), dv(d);
          for (const std::size_t whole = pixels - pixels % V::size; i < whole; i += V::size)
            xsimd::fma(V::load_unaligned(dy + row + i), av,
                       xsimd::fma(V::load_unaligned(x + row + i), bv, dv))
                .store_unaligned(dx + row + i);
        }
        for (; i < pixels; ++i) dx[row + i] = dy[row + i] * a + (x[row + i] * b + d);
      }
    }
  });
}

}  // namespace ctnn::kernels::cpu
