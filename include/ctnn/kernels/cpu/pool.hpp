#pragma once
// Pooling on the CPU: loops over compile-time bounds, vectorized along each output row (xsimd or
// the compiler), channel planes split over threads. Same contracts as kernels/reference/pool.hpp,
// including max pooling's winner (argmax) rule, so backward is a scatter.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ctnn/kernels/cpu/elementwise.hpp"
#include "ctnn/kernels/cpu/parallel.hpp"
#include "ctnn/kernels/cpu/shuffle.hpp"
#include "ctnn/kernels/geometry.hpp"

namespace ctnn::kernels::cpu {
namespace detail {

// Whether candidate (v, index kv) replaces the current winner (m, km) of a max-pooling window:
// the reference's rule (first maximum in window order, first NaN beats any number) for
// candidates that may come out of order. Scalars or xsimd vectors; indices held as T.
template <class V>
inline auto replaces(const V& v, const V& kv, const V& m, const V& km) {
  if constexpr (std::is_floating_point_v<V>) {
    const bool vn = v != v, mn = m != m;
    return (v > m) | (vn & !mn) | (((v == m) | (vn & mn)) & (kv < km));
  } else {
    const auto vn = xsimd::isnan(v), mn = xsimd::isnan(m);
    return (v > m) | (vn & !mn) | (((v == m) | (vn & mn)) & (kv < km));
  }
}

// Lanes of the vector the pooling rows are processed in (1 without SIMD).
template <class T>
constexpr std::size_t lanes() {
  if constexpr (has_simd<T>)
    return simd<T>::size;
  else
    return 1;
}

// The window winners along one row, n a multiple of lanes<T>(): (m[i], km[i]) (value, window
// index) against (v[i], kv), where kv = kv_scale * kv_row[i] + kv_add, or kv_add when FromRow
// is false.
// Without Track only the values: m[i] = the larger of m[i] and v[i], NaN winning (km unused).
template <bool Track, bool FromRow, class T>
inline void reduce_winners(T* __restrict m, T* __restrict km, const T* __restrict v,
                           const T* __restrict kv_row, T kv_scale, T kv_add, std::size_t n) {
  if constexpr (has_simd<T>) {
    using V = simd<T>;
    const V scale(kv_scale), add(kv_add);
    for (std::size_t i = 0; i < n; i += V::size) {
      const V vv = V::load_unaligned(v + i), mv = V::load_unaligned(m + i);
      if constexpr (Track) {
        V kvv = add;
        if constexpr (FromRow) kvv = V::load_unaligned(kv_row + i) * scale + add;
        const V kmv = V::load_unaligned(km + i);
        const auto take = replaces(vv, kvv, mv, kmv);
        xsimd::select(take, vv, mv).store_unaligned(m + i);
        xsimd::select(take, kvv, kmv).store_unaligned(km + i);
      } else {
        const auto take = (vv > mv) | (xsimd::isnan(vv) & !xsimd::isnan(mv));
        xsimd::select(take, vv, mv).store_unaligned(m + i);
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      const T kvi = FromRow ? kv_row[i] * kv_scale + kv_add : kv_add;
      const bool take = Track ? replaces(v[i], kvi, m[i], km[i])
                              : (v[i] > m[i]) | ((v[i] != v[i]) & (m[i] == m[i]));
      m[i] = take ? v[i] : m[i];
      if constexpr (Track) km[i] = take ? kvi : km[i];
    }
  }
}

}  // namespace detail

// x: (B,C,H,W) => y: (B,C,OH,OW), argmax: (B,C,OH,OW) indices into one sample's (C,H,W), as the
// reference. Per output row: the window's rows are reduced into one row (winning value and its
// window row, contiguous and vectorized), then each column's window: h[i] = winner of
// row[i .. i + window) for every i (shifted contiguous loads, vectorized; stride > 1 computes
// some h it does not need, which is still cheaper than strided scalar code), y[ox] = h[ox * S].
namespace detail {

// One output row of the 2x2, stride-2 pooling (most CNNs' only kind), from input rows r0, r1,
// for rows at least one vector wide: L outputs per step from two vectors of each row, the
// columns' winners deinterleaved into the window's left and right halves. The last step
// overlaps the one before instead of running a scalar tail (which mispredicts on real data).
// corner: the sample index of the row's first window. V: simd<T>, or half_simd<T> for rows
// narrower than it.
template <bool Track, PoolGeometry G, class V, class T>
void maxpool_2x2_row(const T* r0, const T* r1, T* yr, std::uint32_t* winners, std::size_t corner) {
  constexpr std::size_t L = V::size;
  static_assert(G.out_width >= L);
  for (std::size_t step = 0; step < G.out_width; step += L) {
    const std::size_t ox = std::min(step, G.out_width - L);
    const V a0 = V::load_unaligned(r0 + 2 * ox), a1 = V::load_unaligned(r0 + 2 * ox + L);
    const V b0 = V::load_unaligned(r1 + 2 * ox), b1 = V::load_unaligned(r1 + 2 * ox + L);
    // the lower row wins a column only if larger, or NaN over a number
    const auto t0 = (b0 > a0) | (xsimd::isnan(b0) & !xsimd::isnan(a0));
    const auto t1 = (b1 > a1) | (xsimd::isnan(b1) & !xsimd::isnan(a1));
    V left, right;
    deinterleave(xsimd::select(t0, b0, a0), xsimd::select(t1, b1, a1), left, right);
    if constexpr (!Track) {
      const auto take = (right > left) | (xsimd::isnan(right) & !xsimd::isnan(left));
      xsimd::select(take, right, left).store_unaligned(yr + ox);
    } else {
      V k_left, k_right;  // window index ky * 2 + kx
      deinterleave(xsimd::select(t0, V(T(2)), V(T(0))), xsimd::select(t1, V(T(2)), V(T(0))), k_left,
                   k_right);
      k_right = k_right + V(T(1));
      const auto take = replaces(right, k_right, left, k_left);
      xsimd::select(take, right, left).store_unaligned(yr + ox);
      const V k = xsimd::select(take, k_right, k_left);
      if constexpr (sizeof(T) == 4) {  // the winners' indices in 32-bit lanes, as many as floats
        using I = xsimd::batch<std::int32_t, typename V::arch_type>;
        const I w = xsimd::to_int(k);
        const I lane = xsimd::make_batch_constant<I, iota>();
        const I index = I(std::int32_t(corner + 2 * ox)) + (w >> 1) * I(std::int32_t(G.width)) +
                        (lane << 1) + (w & I(1));
        index.store_unaligned(reinterpret_cast<std::int32_t*>(winners + ox));
      } else {
        T ks[L];
        k.store_unaligned(ks);
        for (std::size_t i = 0; i < L; ++i) {
          const auto w = static_cast<std::size_t>(ks[i]);
          winners[ox + i] = static_cast<std::uint32_t>(corner + (w >> 1) * G.width + 2 * (ox + i) + (w & 1));
        }
      }
    }
  }
}

// Every output row of the 2x2, stride-2 pooling with vectors V, planes split over threads.
template <bool Track, PoolGeometry G, class V, class T>
void maxpool_2x2_rows(const T* x, T* y, std::uint32_t* argmax, std::size_t batch) {
  const std::size_t planes = batch * G.channels;
  constexpr std::size_t in_plane = G.height * G.width, out_plane = G.out_height * G.out_width;
  parallel_ranges(planes, parts_for(planes, out_plane * 8, std::size_t(1) << 16),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p)
      for (std::size_t oy = 0; oy < G.out_height; ++oy) {
        const T* r0 = x + p * in_plane + 2 * oy * G.width;
        const std::size_t o = p * out_plane + oy * G.out_width;
        const std::size_t corner = ((p % G.channels) * G.height + 2 * oy) * G.width;
        maxpool_2x2_row<Track, G, V>(r0, r0 + G.width, y + o, Track ? argmax + o : nullptr, corner);
      }
  });
}

template <bool Track, PoolGeometry G, class T>
void maxpool_rows(const T* x, T* y, std::uint32_t* argmax, std::size_t batch) {
  const std::size_t planes = batch * G.channels;
  constexpr std::size_t in_plane = G.height * G.width, out_plane = G.out_height * G.out_width;
  // Row buffers padded to whole vectors (so no loop has a scalar tail) plus room for the
  // shifted reads of the column pass.
  constexpr std::size_t L = detail::lanes<T>();
  constexpr std::size_t span = ((G.out_width - 1) * G.stride + 1 + L - 1) / L * L;  // h values
  constexpr std::size_t padded = std::max((G.width + L - 1) / L * L, span + G.window - 1);
  static_assert(G.window * G.window < (std::size_t(1) << 24), "window indices must be exact in T");
  parallel_ranges(planes, parts_for(planes, out_plane * G.window * G.window * 4, std::size_t(1) << 16),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    T rows[padded], row_k[padded], next[padded], h[span], h_k[span];
    std::fill(rows, rows + padded, T(0));
    std::fill(next, next + padded, T(0));
    for (std::size_t p = begin; p < end; ++p) {
      const std::size_t channel = p % G.channels;
      for (std::size_t oy = 0; oy < G.out_height; ++oy) {
        const T* top = x + p * in_plane + oy * G.stride * G.width;
        std::copy(top, top + G.width, rows);
        if constexpr (Track) std::fill(row_k, row_k + padded, T(0));
        for (std::size_t ky = 1; ky < G.window; ++ky) {  // row_k: the winning ky
          std::copy(top + ky * G.width, top + (ky + 1) * G.width, next);
          reduce_winners<Track, false>(rows, row_k, next, static_cast<const T*>(nullptr), T(0),
                                       T(ky), padded / L * L);
        }
        std::copy(rows, rows + span, h);
        if constexpr (Track)
          for (std::size_t i = 0; i < span; ++i) h_k[i] = row_k[i] * T(G.window);
        for (std::size_t kx = 1; kx < G.window; ++kx)  // h_k: ky * window + kx
          reduce_winners<Track, true>(h, h_k, rows + kx, row_k + kx, T(G.window), T(kx), span);
        const std::size_t o = p * out_plane + oy * G.out_width;
        if constexpr (!Track) {
          for (std::size_t ox = 0; ox < G.out_width; ++ox) y[o + ox] = h[ox * G.stride];
          continue;
        }
        const std::size_t corner = (channel * G.height + oy * G.stride) * G.width;
        for (std::size_t ox = 0; ox < G.out_width; ++ox) {
          const auto k = static_cast<std::size_t>(h_k[ox * G.stride]);
          y[o + ox] = h[ox * G.stride];
          argmax[o + ox] = static_cast<std::uint32_t>(corner + (k / G.window) * G.width +
                                                      ox * G.stride + k % G.window);
        }
      }
    }
  });
}

// The 2x2, stride-2 kernel for rows at least a vector wide, or half a vector (SSE under AVX2:
// the Fashion-MNIST net's second pooling has 5 windows a row), else the general one.
template <bool Track, PoolGeometry G, class T>
void maxpool_dispatch(const T* x, T* y, std::uint32_t* argmax, std::size_t batch) {
  constexpr bool two_by_two = G.window == 2 && G.stride == 2 && has_simd<T>;
  if constexpr (two_by_two && G.out_width >= lanes<T>()) {
    maxpool_2x2_rows<Track, G, simd<T>>(x, y, argmax, batch);
  } else if constexpr (two_by_two && lanes<T>() >= 4 && G.out_width >= lanes<T>() / 2) {
    using half = xsimd::make_sized_batch_t<T, lanes<T>() / 2>;
    if constexpr (!std::is_void_v<half>)
      maxpool_2x2_rows<Track, G, half>(x, y, argmax, batch);
    else
      maxpool_rows<Track, G>(x, y, argmax, batch);
  } else {
    maxpool_rows<Track, G>(x, y, argmax, batch);
  }
}

}  // namespace detail

// argmax may be null (inference): then only the values are computed, about twice as fast.
template <PoolGeometry G, class T>
void maxpool_forward(const T* x, T* y, std::uint32_t* argmax, std::size_t batch) {
  if (argmax)
    detail::maxpool_dispatch<true, G>(x, y, argmax, batch);
  else
    detail::maxpool_dispatch<false, G>(x, y, argmax, batch);
}

template <PoolGeometry G, class T>
void maxpool_backward_through_relu(const T* dy, const std::uint32_t* argmax, const T* y, T* dx,
                                   std::size_t batch);

// dx (overwritten) gets each dy at its window's winner.
template <PoolGeometry G, class T>
void maxpool_backward(const T* dy, const std::uint32_t* argmax, T* dx, std::size_t batch) {
  maxpool_backward_through_relu<G>(dy, argmax, static_cast<const T*>(nullptr), dx, batch);
}

// With y (the forward output) non-null, also through the Relu that produced the pooling's
// input: a winner gets dy only where y > 0, which is where the Relu passed its input (the
// winner's value is y). One pass instead of a scatter and then a masking pass over dx.
template <PoolGeometry G, class T>
void maxpool_backward_through_relu(const T* dy, const std::uint32_t* argmax, const T* y, T* dx,
                                   std::size_t batch) {
  parallel_ranges(batch, parts_for(batch, G.input_size() + G.output_size(), std::size_t(1) << 16),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t n = begin; n < end; ++n) {
      T* dxs = dx + n * G.input_size();
      const T* dys = dy + n * G.output_size();
      const std::uint32_t* winners = argmax + n * G.output_size();
      fill(dxs, G.input_size(), T(0));
      if (y) {
        const T* ys = y + n * G.output_size();
        for (std::size_t o = 0; o < G.output_size(); ++o)
          dxs[winners[o]] += ys[o] > T(0) ? dys[o] : T(0);
      } else {
        for (std::size_t o = 0; o < G.output_size(); ++o) dxs[winners[o]] += dys[o];
      }
    }
  });
}

template <PoolGeometry G, class T>
void avgpool_forward(const T* x, T* y, std::size_t batch) {
  const std::size_t planes = batch * G.channels;
  const std::size_t in_plane = G.height * G.width, out_plane = G.out_height * G.out_width;
  const T scale = T(1) / T(G.window * G.window);
  parallel_ranges(planes, parts_for(planes, out_plane * G.window * G.window, std::size_t(1) << 16),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) {
      const T* xs = x + p * in_plane;
      T* ys = y + p * out_plane;
      for (std::size_t oy = 0; oy < G.out_height; ++oy) {
        T* yr = ys + oy * G.out_width;
        fill(yr, G.out_width, T(0));
        for (std::size_t ky = 0; ky < G.window; ++ky) {
          const T* xr = xs + (oy * G.stride + ky) * G.width;
          for (std::size_t kx = 0; kx < G.window; ++kx)
            for (std::size_t ox = 0; ox < G.out_width; ++ox) yr[ox] += xr[ox * G.stride + kx];
        }
        for (std::size_t ox = 0; ox < G.out_width; ++ox) yr[ox] *= scale;
      }
    }
  });
}

template <PoolGeometry G, class T>
void avgpool_backward(const T* dy, T* dx, std::size_t batch) {
  const std::size_t planes = batch * G.channels;
  const std::size_t in_plane = G.height * G.width, out_plane = G.out_height * G.out_width;
  const T scale = T(1) / T(G.window * G.window);
  parallel_ranges(planes, parts_for(planes, in_plane + out_plane * G.window * G.window, std::size_t(1) << 16),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) {
      const T* dys = dy + p * out_plane;
      T* dxs = dx + p * in_plane;
      fill(dxs, in_plane, T(0));
      for (std::size_t oy = 0; oy < G.out_height; ++oy) {
        const T* g = dys + oy * G.out_width;
        for (std::size_t ky = 0; ky < G.window; ++ky) {
          T* xr = dxs + (oy * G.stride + ky) * G.width;
          for (std::size_t kx = 0; kx < G.window; ++kx)
            for (std::size_t ox = 0; ox < G.out_width; ++ox) xr[ox * G.stride + kx] += g[ox] * scale;
        }
      }
    }
  });
}

// (B,C,HW) => (B,C): mean over each channel's pixels.
template <class T>
void global_avgpool_forward(const T* x, T* y, std::size_t batch, std::size_t channels, std::size_t pixels) {
  const std::size_t planes = batch * channels;
  parallel_ranges(planes, parts_for(planes, pixels, std::size_t(1) << 16),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) y[p] = sum(x + p * pixels, pixels) / T(pixels);
  });
}

template <class T>
void global_avgpool_backward(const T* dy, T* dx, std::size_t batch, std::size_t channels, std::size_t pixels) {
  const std::size_t planes = batch * channels;
  parallel_ranges(planes, parts_for(planes, pixels, std::size_t(1) << 16),
                  [&](std::size_t, std::size_t begin, std::size_t end) {
    for (std::size_t p = begin; p < end; ++p) fill(dx + p * pixels, pixels, dy[p] / T(pixels));
  });
}

}  // namespace ctnn::kernels::cpu
