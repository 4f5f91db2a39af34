#pragma once
// Winograd F(2x2, 3x3) convolution for 3x3 stride-1 layers (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016), forward and both backward passes. Same contracts as
// kernels/reference/conv.hpp.
//
// Why: a 2x2 output tile costs 16 multiply-adds per (filter, channel) instead of 36, so the
// multiplies, which are nearly all of a convolution's time, drop 2.25x (1.9x on the
// Fashion-MNIST net's 11x11 output, whose tiles overhang it). Direct multiplication already runs
// near the FMA peak, so this is the only way to go much faster.
//
// The algorithm: each 4x4 input tile d becomes V = B^T d B, each 3x3 filter g becomes
// U = G g G^T, and the tile's output is A^T (U . V) A. Over all tiles, the 16 elementwise
// products are 16 GEMMs, one per tile position p: M_p (F, tiles) = U_p (F, C) x V_p (C, tiles).
// Backward, with dM = A dY A^T per tile (the adjoint of the output transform):
//   dU_p (F, C) = sum over tiles dM_p x V_p^T, then dW = G^T dU G per (filter, channel);
//   dV_p (C, tiles) = U_p^T x dM_p, then dX += B dV B^T per tile (tiles overlap by 2 pixels).
// The transforms are adds, vectorized across 8 (AVX2) neighbouring tiles of a tile row: the
// even and odd pixel columns of each image row are first split into two contiguous rows, so
// tile tx reads lane tx of four plain loads. Out-of-image pixels are zeros, out-of-image
// outputs are dropped.
//
// Bands: tiles are taken a band of tile rows at a time (possibly spanning samples), so the
// transformed tiles and products of a band stay in the cache between the transforms and the
// GEMMs. Threads each take a contiguous range of tile rows (forward) or of samples (backward:
// the input gradients of neighbouring tile rows overlap), and the weight gradient partials are
// summed in thread order: results depend on the thread count but not on the run.
#include <algorithm>
#include <cstddef>

#include "ctnn/kernels/cpu/conv_workspace.hpp"
#include "ctnn/kernels/cpu/elementwise.hpp"
#include "ctnn/kernels/cpu/gemm.hpp"
#include "ctnn/kernels/cpu/parallel.hpp"
#include "ctnn/kernels/cpu/shuffle.hpp"
#include "ctnn/kernels/cpu/simd.hpp"
#include "ctnn/kernels/geometry.hpp"

namespace ctnn::kernels::cpu {

// Chosen at compile time from the static shape: 3x3, stride 1, and enough channels and filters
// for the 16 GEMMs (K = channels) to run at full speed; a first layer with 1 or 3 channels keeps
// im2col (its GEMM has K = 9 or 27).
template <ConvGeometry G, class T>
inline constexpr bool winograd_applies =
    has_simd<T> && G.kernel == 3 && G.stride == 1 && G.channels >= 16 && G.filters >= 16;

template <ConvGeometry G>
struct winograd_plan {
  static constexpr std::size_t tiles_high = (G.out_height + 1) / 2;
  static constexpr std::size_t tiles_wide = (G.out_width + 1) / 2;
  static constexpr std::size_t tiles = tiles_high * tiles_wide;  // per sample
  // A band's tiles and products (16 x (C + F) values per tile) should fit in about 384 KiB of
  // floats (L2), but give the GEMMs at least this many columns.
  static constexpr std::size_t band_budget = std::size_t(96) * 1024;
  static constexpr std::size_t min_columns = 192;
  static constexpr std::size_t rows = [] {  // tile rows per band
    const std::size_t per_row = 16 * (G.channels + G.filters) * tiles_wide;
    const std::size_t at_least = (min_columns + tiles_wide - 1) / tiles_wide;
    return std::max<std::size_t>({band_budget / per_row, at_least, 1});
  }();
  static constexpr std::size_t columns = rows * tiles_wide;
  // Vectors run past the last tile of a row by up to a vector (16 floats with AVX-512), and
  // gemm_packed_a reads B rows a vector past their end.
  static constexpr std::size_t slack = 32;
  static constexpr std::size_t stride = (columns + slack + 15) / 16 * 16;  // GEMM leading dim
  // The 16 matrices of a band, p apart: one cache line more than their size, so the 16 values
  // a tile reads or writes (one per matrix) do not fall in the same cache set (C x stride
  // floats is often a multiple of 4 KiB).
  static constexpr std::size_t tiles_matrix = G.channels * stride + 16;   // V_p, or dV_p
  static constexpr std::size_t products_matrix = G.filters * stride + 16;  // M_p, or dM_p
  static constexpr std::size_t tiles_size = 16 * tiles_matrix;
  static constexpr std::size_t products_size = 16 * products_matrix;
  static constexpr std::size_t thread_size = tiles_size + products_size + 16 * stride;
  static constexpr std::size_t weights_matrix = G.filters * G.channels + 16;  // U_p, as above
  static constexpr std::size_t weights_size = 16 * weights_matrix;
  // U_p packed for the forward GEMMs (then for the input gradient's: U_p^T), after U
  template <class T>
  static std::size_t packed_weights_size() {
    return 16 * std::max(packed_a_size<T>(G.filters, G.channels), packed_a_size<T>(G.channels, G.filters));
  }
};

namespace detail::winograd {

// U_p (F, C) for p = 4i + j, at u + p * weights_matrix: U = G g G^T per (filter, channel), g
// the 3x3 filter w[f][c].
template <ConvGeometry G, class T>
void transform_weights(const T* w, T* u) {
  constexpr std::size_t C = G.channels, P = winograd_plan<G>::weights_matrix;  // p apart
  const T half(0.5);
  for (std::size_t f = 0; f < G.filters; ++f)
    for (std::size_t c = 0; c < C; ++c) {
      const T* g = w + (f * C + c) * 9;
      T t[4][3];  // G g
      for (std::size_t kx = 0; kx < 3; ++kx) {
        t[0][kx] = g[kx];
        t[1][kx] = (g[kx] + g[3 + kx] + g[6 + kx]) * half;
        t[2][kx] = (g[kx] - g[3 + kx] + g[6 + kx]) * half;
        t[3][kx] = g[6 + kx];
      }
      T* out = u + f * C + c;
      for (std::size_t i = 0; i < 4; ++i) {
        out[(4 * i + 0) * P] = t[i][0];
        out[(4 * i + 1) * P] = (t[i][0] + t[i][1] + t[i][2]) * half;
        out[(4 * i + 2) * P] = (t[i][0] - t[i][1] + t[i][2]) * half;
        out[(4 * i + 3) * P] = t[i][2];
      }
    }
}

// dW = G^T dU G per (filter, channel) (dU laid out as U), written over dw (F, C*9).
template <ConvGeometry G, class T>
void weight_gradient(const T* du, T* dw) {
  constexpr std::size_t C = G.channels, P = winograd_plan<G>::weights_matrix;  // p apart
  const T half(0.5);
  for (std::size_t f = 0; f < G.filters; ++f)
    for (std::size_t c = 0; c < C; ++c) {
      const T* in = du + f * C + c;
      T z[3][4];  // G^T dU
      for (std::size_t j = 0; j < 4; ++j) {
        const T d0 = in[j * P], d1 = in[(4 + j) * P], d2 = in[(8 + j) * P],
                d3 = in[(12 + j) * P];
        z[0][j] = d0 + (d1 + d2) * half;
        z[1][j] = (d1 - d2) * half;
        z[2][j] = (d1 + d2) * half + d3;
      }
      T* g = dw + (f * C + c) * 9;
      for (std::size_t ky = 0; ky < 3; ++ky) {
        g[3 * ky + 0] = z[ky][0] + (z[ky][1] + z[ky][2]) * half;
        g[3 * ky + 1] = (z[ky][1] - z[ky][2]) * half;
        g[3 * ky + 2] = (z[ky][1] + z[ky][2]) * half + z[ky][3];
      }
    }
}

// U (at `space`), then the 16 U_p packed for gemm_packed_a after it, transposed (U_p^T, for the
// input gradient) when `transposed`. Returns the packed ones.
template <ConvGeometry G, class T>
const T* packed_weights(const T* w, bool transposed, T* space) {
  constexpr std::size_t C = G.channels, F = G.filters;
  T* packed = space + winograd_plan<G>::weights_size;
  transform_weights<G>(w, space);
  const std::size_t size = transposed ? packed_a_size<T>(C, F) : packed_a_size<T>(F, C);
  for (std::size_t p = 0; p < 16; ++p)
    pack_a_panels(transposed, transposed ? C : F, transposed ? F : C, space + p * winograd_plan<G>::weights_matrix, C,
                  packed + p * size);
  return packed;
}

// The 1-D transforms, on scalars or vectors (lane = tile).
// B^T d: d0..d3 => 4 values.
template <class V>
inline void input_1d(const V& d0, const V& d1, const V& d2, const V& d3, V* t) {
  t[0] = d0 - d2;
  t[1] = d1 + d2;
  t[2] = d2 - d1;
  t[3] = d1 - d3;
}
// A^T m: m0..m3 => 2 values.
template <class V>
inline void output_1d(const V& m0, const V& m1, const V& m2, const V& m3, V& y0, V& y1) {
  y0 = m0 + m1 + m2;
  y1 = m1 - m2 - m3;
}
// A dy: dy0, dy1 => 4 values (adjoint of output_1d).
template <class V>
inline void output_adjoint_1d(const V& a, const V& b, V* h) {
  h[0] = a;
  h[1] = a + b;
  h[2] = a - b;
  h[3] = V(0) - b;
}
// B dv: dv0..dv3 => 4 values (adjoint of input_1d).
template <class V>
inline void input_adjoint_1d(const V& v0, const V& v1, const V& v2, const V& v3, V* q) {
  q[0] = v0;
  q[1] = v1 - v2 + v3;
  q[2] = v1 + v2 - v0;
  q[3] = V(0) - v3;
}

// Scratch of one thread: 16 arrays of a band's columns (plan::stride values each): split image
// rows, output rows before they are interleaved, tile parts of the input gradient.
template <ConvGeometry G, class T>
struct band_scratch {
  T* base;
  T* array(std::size_t i) const { return base + i * winograd_plan<G>::stride; }
};

// even[k] = x[2k - P], odd[k] = x[2k + 1 - P] for k < Count, where x is an image row of Width
// values and zeros around it; up to a vector more of each may be written. Vectors read the row
// in place (no copy: a copy then overlapping loads would stall on store forwarding), also past
// its end, up to `readable` (the end of the tensor), with those lanes zeroed; scalars do the rest.
template <std::size_t Width, std::size_t Pad, std::size_t Count, class T>
inline void split_row(const T* row, T* even, T* odd, const T* readable) {
  using Vec = simd<T>;
  constexpr std::size_t L = Vec::size;
  // even[k] lies in the row for k < even_count, odd[k] for k < odd_count
  constexpr std::size_t even_count = (Width - 1 + Pad) / 2 + 1;
  constexpr std::size_t odd_count = Width + Pad >= 2 ? (Width - 2 + Pad) / 2 + 1 : 0;
  const auto at = [row](std::ptrdiff_t i) {
    return i >= 0 && i < std::ptrdiff_t(Width) ? row[i] : T(0);
  };
  for (std::size_t j = 0; j < Count; j += L) {
    const std::ptrdiff_t first = std::ptrdiff_t(2 * j) - std::ptrdiff_t(Pad);
    if (first >= 0 && row + first + 2 * L <= readable) {
      Vec e, o;
      deinterleave(Vec::load_unaligned(row + first), Vec::load_unaligned(row + first + L), e, o);
      if (first + std::ptrdiff_t(2 * L) > std::ptrdiff_t(Width)) {  // read past the row
        const Vec k = Vec(xsimd::make_batch_constant<Vec, iota>()) + Vec(T(j));
        e = xsimd::select(k < Vec(T(even_count)), e, Vec(T(0)));
        o = xsimd::select(k < Vec(T(odd_count)), o, Vec(T(0)));
      }
      e.store_unaligned(even + j);
      o.store_unaligned(odd + j);
    } else {
      for (std::size_t k = j; k < j + L && k < Count; ++k) {
        even[k] = at(std::ptrdiff_t(2 * k) - std::ptrdiff_t(Pad));
        odd[k] = at(std::ptrdiff_t(2 * k + 1) - std::ptrdiff_t(Pad));
      }
    }
  }
}

// The inverse for a row of N values: row[2k] = even[k], row[2k + 1] = odd[k] for 2k, 2k + 1 < N;
// nothing past it is written.
template <std::size_t N, class T>
inline void merge_row(const T* even, const T* odd, T* row) {
  using Vec = simd<T>;
  constexpr std::size_t L = Vec::size;
  for (std::size_t j = 0; 2 * j < N; j += L) {
    Vec u, v;
    interleave(Vec::load_unaligned(even + j), Vec::load_unaligned(odd + j), u, v);
    if (2 * j + 2 * L <= N) {
      u.store_unaligned(row + 2 * j);
      v.store_unaligned(row + 2 * j + L);
    } else {
      alignas(64) T tail[2 * L];
      u.store_aligned(tail);
      v.store_aligned(tail + L);
      for (std::size_t i = 0; 2 * j + i < N; ++i) row[2 * j + i] = tail[i];
    }
  }
}

// Calls f(k, n, ty) for the tile rows [j0, j0 + rows) of the whole batch (tile row j is row
// j % tiles_high of sample j / tiles_high), k counting from 0.
template <ConvGeometry G, class F>
inline void for_each_tile_row(std::size_t j0, std::size_t rows, F&& f) {
  constexpr std::size_t th = winograd_plan<G>::tiles_high;
  for (std::size_t k = 0; k < rows; ++k) f(k, (j0 + k) / th, (j0 + k) % th);
}

// V for a band: v[p * tiles_matrix + c * stride + column], p = 4i + j.
template <ConvGeometry G, class T>
void transform_band(const T* x, const T* readable, std::size_t j0, std::size_t rows, T* v,
                    band_scratch<G, T> s) {
  using plan = winograd_plan<G>;
  using Vec = simd<T>;
  constexpr std::size_t TW = plan::tiles_wide;
  // Padded image row q is split into even and odd columns in slot q % 4 (arrays 2 (q % 4) and
  // 2 (q % 4) + 1): a tile row reads four consecutive rows and shares two with the next one.
  const auto load = [&](const T* plane, std::size_t q) {
    T* even = s.array(2 * (q % 4));
    T* odd = even + plan::stride;
    const std::ptrdiff_t iy = std::ptrdiff_t(q) - std::ptrdiff_t(G.padding);
    if (iy < 0 || iy >= std::ptrdiff_t(G.height)) {
      fill(even, TW + 1, T(0));
      fill(odd, TW + 1, T(0));
      return;
    }
    split_row<G.width, G.padding, TW + 1>(plane + std::size_t(iy) * G.width, even, odd, readable);
  };
  for (std::size_t c = 0; c < G.channels; ++c) {
    std::size_t previous = ~std::size_t(0);  // the last tile row split, as a batch tile row
    for_each_tile_row<G>(j0, rows, [&](std::size_t k, std::size_t n, std::size_t ty) {
      const T* plane = x + n * G.input_size() + c * G.height * G.width;
      const bool next = ty > 0 && previous == j0 + k - 1;
      for (std::size_t r = next ? 2 : 0; r < 4; ++r) load(plane, 2 * ty + r);
      previous = j0 + k;
      const T* even[4];
      const T* odd[4];
      for (std::size_t r = 0; r < 4; ++r) {
        even[r] = s.array(2 * ((2 * ty + r) % 4));
        odd[r] = even[r] + plan::stride;
      }
      T* out = v + c * plan::stride + k * TW;
      for (std::size_t tx = 0; tx < TW; tx += Vec::size) {
        Vec t[4][4];  // t[r] = B^T (row r of the tile)
        for (std::size_t r = 0; r < 4; ++r)
          input_1d(Vec::load_unaligned(even[r] + tx), Vec::load_unaligned(odd[r] + tx),
                   Vec::load_unaligned(even[r] + tx + 1), Vec::load_unaligned(odd[r] + tx + 1), t[r]);
        for (std::size_t j = 0; j < 4; ++j) {
          Vec col[4];
          input_1d(t[0][j], t[1][j], t[2][j], t[3][j], col);
          // Lanes past the row's last tile spill into the next tile row (written after this
          // one) or the padding.
          for (std::size_t i = 0; i < 4; ++i)
            col[i].store_unaligned(out + (4 * i + j) * plan::tiles_matrix + tx);
        }
      }
    });
  }
}

// Y from M for a band (m[p * products_matrix + f * stride + column]), plus the bias, then
// max(., 0) with Relu.
template <ConvGeometry G, bool Relu, class T>
void output_band(const T* m, const T* bias, T* y, std::size_t j0, std::size_t rows,
                 band_scratch<G, T> s) {
  using plan = winograd_plan<G>;
  using Vec = simd<T>;
  constexpr std::size_t TW = plan::tiles_wide;
  const std::size_t columns = rows * TW;
  const Vec zero(T(0));
  for (std::size_t f = 0; f < G.filters; ++f) {
    const Vec b(bias[f]);
    const T* mf = m + f * plan::stride;
    for (std::size_t col = 0; col < columns; col += Vec::size) {
      Vec a[2][4];  // A^T M, column by column
      for (std::size_t j = 0; j < 4; ++j)
        output_1d(Vec::load_unaligned(mf + j * plan::products_matrix + col),
                  Vec::load_unaligned(mf + (4 + j) * plan::products_matrix + col),
                  Vec::load_unaligned(mf + (8 + j) * plan::products_matrix + col),
                  Vec::load_unaligned(mf + (12 + j) * plan::products_matrix + col), a[0][j], a[1][j]);
      for (std::size_t r = 0; r < 2; ++r) {  // array 2r + 0/1: output row r, even/odd columns
        Vec y0, y1;
        output_1d(a[r][0], a[r][1], a[r][2], a[r][3], y0, y1);
        y0 += b;
        y1 += b;
        if constexpr (Relu) {  // as relu_forward: NaN kept
          y0 = xsimd::select(y0 < zero, zero, y0);
          y1 = xsimd::select(y1 < zero, zero, y1);
        }
        y0.store_unaligned(s.array(2 * r) + col);
        y1.store_unaligned(s.array(2 * r + 1) + col);
      }
    }
    for_each_tile_row<G>(j0, rows, [&](std::size_t k, std::size_t n, std::size_t ty) {
      T* plane = y + n * G.output_size() + f * G.out_pixels();
      for (std::size_t r = 0; r < 2 && 2 * ty + r < G.out_height; ++r) {
        merge_row<G.out_width>(s.array(2 * r) + k * TW, s.array(2 * r + 1) + k * TW,
                               plane + (2 * ty + r) * G.out_width);
      }
    });
  }
}

// dM = A dY A^T for a band: dm[p * products_matrix + f * stride + column].
template <ConvGeometry G, class T>
void gradient_band(const T* dy, const T* readable, std::size_t j0, std::size_t rows, T* dm,
                   band_scratch<G, T> s) {
  using plan = winograd_plan<G>;
  using Vec = simd<T>;
  constexpr std::size_t TW = plan::tiles_wide;
  const std::size_t columns = rows * TW;
  for (std::size_t f = 0; f < G.filters; ++f) {
    for_each_tile_row<G>(j0, rows, [&](std::size_t k, std::size_t n, std::size_t ty) {
      const T* plane = dy + n * G.output_size() + f * G.out_pixels();
      for (std::size_t r = 0; r < 2; ++r) {  // array 2r + 0/1: row r's even/odd columns
        if (2 * ty + r >= G.out_height) {
          fill(s.array(2 * r) + k * TW, TW, T(0));
          fill(s.array(2 * r + 1) + k * TW, TW, T(0));
          continue;
        }
        split_row<G.out_width, 0, TW>(plane + (2 * ty + r) * G.out_width, s.array(2 * r) + k * TW,
                                      s.array(2 * r + 1) + k * TW, readable);
      }
    });
    for (std::size_t col = 0; col < columns; col += Vec::size) {
      Vec h[2][4];  // A (row r of dY)
      for (std::size_t r = 0; r < 2; ++r)
        output_adjoint_1d(Vec::load_unaligned(s.array(2 * r) + col),
                          Vec::load_unaligned(s.array(2 * r + 1) + col), h[r]);
      for (std::size_t j = 0; j < 4; ++j) {
        Vec out[4];
        output_adjoint_1d(h[0][j], h[1][j], out);
        for (std::size_t i = 0; i < 4; ++i)
          out[i].store_unaligned(dm + (4 * i + j) * plan::products_matrix + f * plan::stride + col);
      }
    }
  }
}

// tiles[t + lane] for a vector of tiles from t (which may be negative), zero for lanes outside
// [0, TW). Reads up to a vector either side of the row, which must be readable.
template <std::size_t TW, class T>
inline simd<T> tiles_at(const T* tiles, std::ptrdiff_t t) {
  using Vec = simd<T>;
  const Vec index = Vec(xsimd::make_batch_constant<Vec, iota>()) + Vec(T(t));
  const auto inside = (index >= Vec(T(0))) & (index < Vec(T(TW)));
  return xsimd::select(inside, Vec::load_unaligned(tiles + t), Vec(T(0)));
}

// dX += B dV B^T for a band (dv[p * tiles_matrix + c * stride + column]); neighbouring tiles
// overlap by two rows and columns: their parts are summed in registers, then added to dX
// (zeroed by the caller).
template <ConvGeometry G, class T>
void scatter_band(const T* dv, T* dx, std::size_t j0, std::size_t rows, band_scratch<G, T> s) {
  using plan = winograd_plan<G>;
  using Vec = simd<T>;
  constexpr std::size_t TW = plan::tiles_wide, L = Vec::size;
  const std::size_t columns = rows * TW;
  for (std::size_t c = 0; c < G.channels; ++c) {
    for (std::size_t col = 0; col < columns; col += L) {
      Vec q[4][4];  // q[i] = (row i of dV) B^T
      for (std::size_t i = 0; i < 4; ++i)
        input_adjoint_1d(Vec::load_unaligned(dv + (4 * i + 0) * plan::tiles_matrix + c * plan::stride + col),
                         Vec::load_unaligned(dv + (4 * i + 1) * plan::tiles_matrix + c * plan::stride + col),
                         Vec::load_unaligned(dv + (4 * i + 2) * plan::tiles_matrix + c * plan::stride + col),
                         Vec::load_unaligned(dv + (4 * i + 3) * plan::tiles_matrix + c * plan::stride + col),
                         q[i]);
      for (std::size_t j = 0; j < 4; ++j) {  // array 4r + j: the tile's row r, column j
        Vec d[4];
        input_adjoint_1d(q[0][j], q[1][j], q[2][j], q[3][j], d);
        for (std::size_t r = 0; r < 4; ++r) d[r].store_unaligned(s.array(4 * r + j) + col);
      }
    }
    for_each_tile_row<G>(j0, rows, [&](std::size_t k, std::size_t n, std::size_t ty) {
      T* plane = dx + n * G.input_size() + c * G.height * G.width;
      for (std::size_t r = 0; r < 4; ++r) {
        const std::ptrdiff_t iy = std::ptrdiff_t(2 * ty + r) - std::ptrdiff_t(G.padding);
        if (iy < 0 || iy >= std::ptrdiff_t(G.height)) continue;  // padding: no gradient
        // Padded column 2t + j gets column j of tile t and column j + 2 of tile t - 1. Image
        // column ix is padded column ix + P.
        const T* d[4];
        for (std::size_t j = 0; j < 4; ++j) d[j] = s.array(4 * r + j) + k * TW;
        const auto at = [&](std::size_t j, std::ptrdiff_t t) {  // d[j][t + lane], 0 outside
          return tiles_at<TW>(d[j], t);
        };
        T* row = plane + std::size_t(iy) * G.width;
        for (std::size_t m = 0; 2 * m < G.width; m += L) {
          const std::ptrdiff_t h = std::ptrdiff_t(m + G.padding / 2);
          Vec even, odd;  // image columns 2 (m + lane) and 2 (m + lane) + 1
          if constexpr (G.padding % 2 == 0) {
            even = at(0, h) + at(2, h - 1);
            odd = at(1, h) + at(3, h - 1);
          } else {
            even = at(1, h) + at(3, h - 1);
            odd = at(0, h + 1) + at(2, h);
          }
          Vec u, w;
          interleave(even, odd, u, w);
          if (2 * m + 2 * L <= G.width) {
            (Vec::load_unaligned(row + 2 * m) + u).store_unaligned(row + 2 * m);
            (Vec::load_unaligned(row + 2 * m + L) + w).store_unaligned(row + 2 * m + L);
          } else {
            alignas(64) T tail[2 * L];
            u.store_aligned(tail);
            w.store_aligned(tail + L);
            for (std::size_t i = 0; 2 * m + i < G.width; ++i) row[2 * m + i] += tail[i];
          }
        }
      }
    });
  }
}

}  // namespace detail::winograd

// x: (B,C,H,W)  w: (F, C*9)  b: (F)  =>  y: (B,F,OH*OW), with Relu y = max(conv, 0).
template <ConvGeometry G, bool Relu = false, class T>
void winograd_forward(const T* x, const T* w, const T* b, T* y, std::size_t batch,
                      conv_workspace<T>& ws) {
  namespace wg = detail::winograd;
  using plan = winograd_plan<G>;
  constexpr std::size_t C = G.channels, F = G.filters;
  // Threads take contiguous ranges of tile rows, not samples (outputs of different tile rows
  // are disjoint), so a single large image uses every thread too.
  const std::size_t tile_rows = batch * plan::tiles_high;
  const std::size_t parts = parts_for(tile_rows, 16 * F * C * plan::tiles_wide);
  ws.grow(ws.weights, plan::weights_size + plan::template packed_weights_size<T>());
  ws.grow(ws.bands, parts * plan::thread_size);
  const T* u = wg::packed_weights<G>(w, false, ws.weights.data());
  const std::size_t panels = packed_a_size<T>(F, C);
  parallel_ranges(tile_rows, parts, [&](std::size_t part, std::size_t first, std::size_t last) {
    T* v = ws.bands.data() + part * plan::thread_size;
    T* m = v + plan::tiles_size;
    const wg::band_scratch<G, T> scratch{m + plan::products_size};
    for (std::size_t j0 = first; j0 < last; j0 += plan::rows) {
      const std::size_t rows = std::min(plan::rows, last - j0);
      const std::size_t columns = rows * plan::tiles_wide;
      wg::transform_band<G>(x, x + batch * G.input_size(), j0, rows, v, scratch);
      for (std::size_t p = 0; p < 16; ++p)  // M_p (F, columns) = U_p (F, C) x V_p (C, columns)
        gemm_packed_a(F, columns, C, u + p * panels, v + p * plan::tiles_matrix, plan::stride,
                      m + p * plan::products_matrix, plan::stride);
      wg::output_band<G, Relu>(m, b, y, j0, rows, scratch);
    }
  });
}

// dw, db overwritten; dx overwritten when non-null.
template <ConvGeometry G, class T>
void winograd_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db,
                       std::size_t batch, conv_workspace<T>& ws) {
  namespace wg = detail::winograd;
  using plan = winograd_plan<G>;
  constexpr std::size_t C = G.channels, F = G.filters;
  constexpr std::size_t gradient_size = plan::weights_size + F;  // dU, then db
  const std::size_t parts = parts_for(batch, 2 * 16 * F * C * plan::tiles);
  ws.grow(ws.bands, parts * plan::thread_size);
  ws.grow(ws.partials, parts * gradient_size);
  const T* u = nullptr;  // U_p^T (C, F), packed
  if (dx) {
    ws.grow(ws.weights, plan::weights_size + plan::template packed_weights_size<T>());
    u = wg::packed_weights<G>(w, true, ws.weights.data());
  }
  const std::size_t panels = packed_a_size<T>(C, F);
  const std::size_t used = parallel_ranges(batch, parts, [&](std::size_t part, std::size_t begin,
                                                             std::size_t end) {
    T* v = ws.bands.data() + part * plan::thread_size;
    T* dm = v + plan::tiles_size;
    const wg::band_scratch<G, T> scratch{dm + plan::products_size};
    T* du = ws.partials.data() + part * gradient_size;
    T* db_part = du + plan::weights_size;
    fill(du, gradient_size, T(0));
    for (std::size_t n = begin; n < end; ++n) {
      const T* dyn = dy + n * G.output_size();
      for (std::size_t f = 0; f < F; ++f) db_part[f] += sum(dyn + f * G.out_pixels(), G.out_pixels());
      if (dx) fill(dx + n * G.input_size(), G.input_size(), T(0));
    }
    const std::size_t last = end * plan::tiles_high;
    for (std::size_t j0 = begin * plan::tiles_high; j0 < last; j0 += plan::rows) {
      const std::size_t rows = std::min(plan::rows, last - j0);
      const std::size_t columns = rows * plan::tiles_wide;
      wg::transform_band<G>(x, x + batch * G.input_size(), j0, rows, v, scratch);
      wg::gradient_band<G>(dy, dy + batch * G.output_size(), j0, rows, dm, scratch);
      for (std::size_t p = 0; p < 16; ++p)  // dU_p (F, C) += dM_p (F, columns) x V_p^T
        gemm(false, true, F, C, columns, T(1), dm + p * plan::products_matrix, plan::stride,
             v + p * plan::tiles_matrix, plan::stride, T(1), du + p * plan::weights_matrix, C);
      if (!dx) continue;
      for (std::size_t p = 0; p < 16; ++p)  // dV_p (C, columns) = U_p^T x dM_p, over V
        gemm_packed_a(C, columns, F, u + p * panels, dm + p * plan::products_matrix, plan::stride,
                      v + p * plan::tiles_matrix, plan::stride);
      wg::scatter_band<G>(v, dx, j0, rows, scratch);
    }
  });
  T* du = ws.partials.data();
  for (std::size_t part = 1; part < used; ++part)
    add_to(ws.partials.data() + part * gradient_size, du, gradient_size);
  wg::weight_gradient<G>(du, dw);
  std::copy(du + plan::weights_size, du + gradient_size, db);
}

}  // namespace ctnn::kernels::cpu
