#pragma once
// Convolution on the CPU: im2col + GEMM, a band of output rows at a time, samples split over
// threads; 3x3 stride-1 layers with enough channels take the Winograd path instead
// (winograd.hpp), chosen at compile time from the shape. Same contracts as
// kernels/reference/conv.hpp.
//
// Why bands: whole-image columns are C*K*K x OH*OW values (170 MB per 3x32x384x384 sample's
// second layer), written once and read back from DRAM; a band of rows sized to stay in the
// cache (conv_plan) gives the GEMM the same operand without the memory traffic, and the
// workspace shrinks to one band per thread. The plan is computed from the static geometry.
//
// Threads: each takes a contiguous range of samples with its own band workspace; the weight
// and bias gradients are accumulated per thread and summed in thread order afterwards, so the
// result depends on the thread count but not on the run. GEMMs inside run single-threaded.
#include <algorithm>
#include <cstddef>

#include "ctnn/kernels/cpu/conv_workspace.hpp"
#include "ctnn/kernels/cpu/elementwise.hpp"
#include "ctnn/kernels/cpu/gemm.hpp"
#include "ctnn/kernels/cpu/parallel.hpp"
#include "ctnn/kernels/cpu/winograd.hpp"
#include "ctnn/kernels/geometry.hpp"

namespace ctnn::kernels::cpu {

template <ConvGeometry G>
struct conv_plan {
  // A band's columns should fit in about 256 KiB of floats (L2)...
  static constexpr std::size_t band_budget = std::size_t(64) * 1024;
  // ...but give the GEMM at least this many columns (a narrow N wastes the micro-kernel).
  static constexpr std::size_t min_band_pixels = 256;
  static constexpr std::size_t rows = [] {
    std::size_t r = band_budget / (G.patch_size() * G.out_width);
    const std::size_t at_least = (min_band_pixels + G.out_width - 1) / G.out_width;
    r = std::max(r, at_least);
    return std::clamp<std::size_t>(r, 1, G.out_height);
  }();
  static constexpr std::size_t band_size = G.patch_size() * rows * G.out_width;
  static constexpr std::size_t weight_count = G.filters * G.patch_size();
};

namespace detail {

// ox range whose window column kx lies inside the image: [lo, hi).
template <ConvGeometry G>
constexpr std::size_t inside_begin(std::size_t kx) {
  if (kx >= G.padding) return 0;
  return (G.padding - kx + G.stride - 1) / G.stride;
}
template <ConvGeometry G>
constexpr std::size_t inside_end(std::size_t kx) {
  // largest ox with ox*S + kx - P <= W - 1
  if (kx > G.width - 1 + G.padding) return 0;
  return std::min(G.out_width, (G.width - 1 + G.padding - kx) / G.stride + 1);
}

// Walks the rows of a band's columns: for every (c, ky, kx) and band row r, calls
// f(column, input, kx, lo, hi) with the offset of that row of OW columns in the band, the offset
// of the image row it reads in the sample (-1 where the window row lies in the padding), and the
// ox range [lo, hi) whose window column kx lies inside the image.
template <ConvGeometry G, class F>
void for_each_band_row(std::size_t row0, std::size_t rows, F&& f) {
  const std::size_t pixels = rows * G.out_width;
  for (std::size_t c = 0; c < G.channels; ++c)
    for (std::size_t ky = 0; ky < G.kernel; ++ky)
      for (std::size_t kx = 0; kx < G.kernel; ++kx) {
        const std::size_t column = ((c * G.kernel + ky) * G.kernel + kx) * pixels;
        const std::size_t lo = inside_begin<G>(kx), hi = std::max(lo, inside_end<G>(kx));
        for (std::size_t r = 0; r < rows; ++r) {
          const std::ptrdiff_t iy = std::ptrdiff_t((row0 + r) * G.stride + ky) - std::ptrdiff_t(G.padding);
          const bool inside = iy >= 0 && iy < std::ptrdiff_t(G.height);
          const std::ptrdiff_t input = inside ? std::ptrdiff_t((c * G.height + std::size_t(iy)) * G.width) : -1;
          f(column + r * G.out_width, input, kx, lo, hi);
        }
      }
}

}  // namespace detail

// Output rows [row0, row0 + rows) of one sample (C,H,W) => columns (C*K*K, rows*OW).
template <ConvGeometry G, class T>
void im2col_band(const T* x, T* col, std::size_t row0, std::size_t rows) {
  if constexpr (G.padding == 0) {
    // Every window lies inside the image: rows of OW values with compile-time bounds, which the
    // compiler turns into straight vector copies (the general walker below costs 3x more on
    // the Fashion-MNIST net's 11-wide rows).
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t ky = 0; ky < G.kernel; ++ky)
        for (std::size_t kx = 0; kx < G.kernel; ++kx) {
          T* out = col + ((c * G.kernel + ky) * G.kernel + kx) * rows * G.out_width;
          const T* in = x + (c * G.height + row0 * G.stride + ky) * G.width + kx;
          for (std::size_t r = 0; r < rows; ++r, out += G.out_width, in += G.stride * G.width)
            for (std::size_t ox = 0; ox < G.out_width; ++ox) out[ox] = in[ox * G.stride];
        }
    return;
  }
  detail::for_each_band_row<G>(row0, rows, [&](std::size_t column, std::ptrdiff_t input,
                                               std::size_t kx, std::size_t lo, std::size_t hi) {
    T* out = col + column;
    if (input < 0) {
      for (std::size_t ox = 0; ox < G.out_width; ++ox) out[ox] = T(0);
      return;
    }
    // in[ox * S + kx - P] for ox in [lo, hi), which is never negative. Plain loops, not
    // std::copy/fill: rows are short (11 floats in the Fashion-MNIST net), and a library call
    // per row costs more than the copy.
    const T* in = x + input;
    for (std::size_t ox = 0; ox < lo; ++ox) out[ox] = T(0);
    for (std::size_t ox = lo; ox < hi; ++ox) out[ox] = in[ox * G.stride + kx - G.padding];
    for (std::size_t ox = hi; ox < G.out_width; ++ox) out[ox] = T(0);
  });
}

// Columns of output rows [row0, row0 + rows) => one sample (C,H,W), added to dx.
template <ConvGeometry G, class T>
void col2im_band_add(const T* col, T* dx, std::size_t row0, std::size_t rows) {
  if constexpr (G.padding == 0) {  // as in im2col_band
    for (std::size_t c = 0; c < G.channels; ++c)
      for (std::size_t ky = 0; ky < G.kernel; ++ky)
        for (std::size_t kx = 0; kx < G.kernel; ++kx) {
          const T* in = col + ((c * G.kernel + ky) * G.kernel + kx) * rows * G.out_width;
          T* out = dx + (c * G.height + row0 * G.stride + ky) * G.width + kx;
          for (std::size_t r = 0; r < rows; ++r, in += G.out_width, out += G.stride * G.width)
            for (std::size_t ox = 0; ox < G.out_width; ++ox) out[ox * G.stride] += in[ox];
        }
    return;
  }
  detail::for_each_band_row<G>(row0, rows, [&](std::size_t column, std::ptrdiff_t input,
                                               std::size_t kx, std::size_t lo, std::size_t hi) {
    if (input < 0) return;
    const T* in = col + column;
    T* out = dx + input;
    for (std::size_t ox = lo; ox < hi; ++ox) out[ox * G.stride + kx - G.padding] += in[ox];
  });
}

// x: (B,C,H,W)  w: (F, C*K*K)  b: (F)  =>  y: (B,F,OH*OW); with Relu, y = max(conv, 0), applied
// to each sample while its output is still in cache (a following Relu layer then has nothing
// to do: Sequence fuses the two).
template <ConvGeometry G, bool Relu = false, class T>
void im2col_forward(const T* x, const T* w, const T* b, T* y, std::size_t batch,
                    conv_workspace<T>& ws) {
  using plan = conv_plan<G>;
  const std::size_t parts = parts_for(batch, G.filters * G.patch_size() * G.out_pixels());
  ws.reserve(parts, plan::band_size, 0);
  parallel_ranges(batch, parts, [&](std::size_t part, std::size_t begin, std::size_t end) {
    T* band = ws.bands.data() + part * plan::band_size;
    for (std::size_t n = begin; n < end; ++n) {
      T* yn = y + n * G.output_size();
      for (std::size_t f = 0; f < G.filters; ++f) fill(yn + f * G.out_pixels(), G.out_pixels(), b[f]);
      for (std::size_t row0 = 0; row0 < G.out_height; row0 += plan::rows) {
        const std::size_t rows = std::min(plan::rows, G.out_height - row0);
        const std::size_t pixels = rows * G.out_width;
        im2col_band<G>(x + n * G.input_size(), band, row0, rows);
        // (F, CKK) x (CKK, pixels) => y_n[:, band], row stride OH*OW
        gemm(false, false, G.filters, pixels, G.patch_size(), T(1), w, G.patch_size(), band,
             pixels, T(1), yn + row0 * G.out_width, G.out_pixels());
      }
      if constexpr (Relu) relu_in_place(yn, G.output_size());
    }
  });
}

// dw, db overwritten; dx overwritten when non-null.
template <ConvGeometry G, class T>
void im2col_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t batch,
                     conv_workspace<T>& ws) {
  using plan = conv_plan<G>;
  constexpr std::size_t gradient_size = plan::weight_count + G.filters;
  // (The split does not depend on dx, so dw and db have the same bits with or without it.)
  const std::size_t parts = parts_for(batch, 2 * G.filters * G.patch_size() * G.out_pixels());
  ws.reserve(parts, plan::band_size, gradient_size);
  const std::size_t used = parallel_ranges(batch, parts, [&](std::size_t part, std::size_t begin,
                                                             std::size_t end) {
    T* band = ws.bands.data() + part * plan::band_size;
    T* dw_part = part == 0 ? dw : ws.partials.data() + (part - 1) * gradient_size;
    T* db_part = part == 0 ? db : dw_part + plan::weight_count;
    fill(db_part, G.filters, T(0));
    if (begin == end) fill(dw_part, plan::weight_count, T(0));
    for (std::size_t n = begin; n < end; ++n) {
      const T* dyn = dy + n * G.output_size();
      T* dxn = dx ? dx + n * G.input_size() : nullptr;
      if (dxn) fill(dxn, G.input_size(), T(0));
      for (std::size_t f = 0; f < G.filters; ++f) db_part[f] += sum(dyn + f * G.out_pixels(), G.out_pixels());
      for (std::size_t row0 = 0; row0 < G.out_height; row0 += plan::rows) {
        const std::size_t rows = std::min(plan::rows, G.out_height - row0);
        const std::size_t pixels = rows * G.out_width;
        const T* dy_band = dyn + row0 * G.out_width;
        im2col_band<G>(x + n * G.input_size(), band, row0, rows);
        // dW (F, CKK) (+)= dy_band (F, pixels) x cols^T (pixels, CKK)
        const bool first = n == begin && row0 == 0;
        gemm(false, true, G.filters, G.patch_size(), pixels, T(1), dy_band, G.out_pixels(), band,
             pixels, first ? T(0) : T(1), dw_part, G.patch_size());
        if (dxn) {
          // dcols (CKK, pixels) = W^T (CKK, F) x dy_band (F, pixels)
          gemm(true, false, G.patch_size(), pixels, G.filters, T(1), w, G.patch_size(), dy_band,
               G.out_pixels(), T(0), band, pixels);
          col2im_band_add<G>(band, dxn, row0, rows);
        }
      }
    }
  });
  for (std::size_t part = 1; part < used; ++part) {
    const T* partial = ws.partials.data() + (part - 1) * gradient_size;
    add_to(partial, dw, plan::weight_count);
    add_to(partial + plan::weight_count, db, G.filters);
  }
}

// The convolution: Winograd where it applies, else im2col (only the chosen one is compiled).
template <ConvGeometry G, bool Relu = false, class T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, std::size_t batch,
                    conv_workspace<T>& ws) {
  if constexpr (winograd_applies<G, T>)
    winograd_forward<G, Relu>(x, w, b, y, batch, ws);
  else
    im2col_forward<G, Relu>(x, w, b, y, batch, ws);
}

template <ConvGeometry G, class T>
void conv2d_backward(const T* x, const T* w, const T* dy, T* dx, T* dw, T* db, std::size_t batch,
                     conv_workspace<T>& ws) {
  if constexpr (winograd_applies<G, T>)
    winograd_backward<G>(x, w, dy, dx, dw, db, batch, ws);
  else
    im2col_backward<G>(x, w, dy, dx, dw, db, batch, ws);
}

}  // namespace ctnn::kernels::cpu
