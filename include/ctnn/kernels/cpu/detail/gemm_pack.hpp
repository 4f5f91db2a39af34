#pragma once
// GEMM packing: copy a block of op(A) or op(B) into the layout the micro-kernel streams.
//   A micro-panel (mr x kc) => pa[p * mr + i]        (one column of mr values per step p)
//   B block (kc x nc)       => panels of nr columns: panel at column j0 starts at pb + j0 * kc,
//                              holds pb[j0 * kc + p * w + (j - j0)], w = nr for full panels and
//                              the last panel's width rounded up to the vector width, zero-filled.
// The transposing cases (A stored (M,K) row-major, B stored (N,K)) use 4x4 (float) or 2x2
// (double) SSE2 register transposes; everything else is contiguous copies.
#include <xsimd/xsimd.hpp>

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "ctnn/kernels/cpu/detail/gemm_config.hpp"

namespace ctnn::kernels::cpu::detail {

// GCC 12 inlines transpose_copy(NR, ...) into pack_b and then warns about the (dead) scalar row
// tail: the warning is a false positive there.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Waggressive-loop-optimizations"
#endif

// transpose_copy(rows, cols, src, lds, dst, ldd): dst[c * ldd + r] = src[r * lds + c].
template <class T>
inline void transpose_copy(std::size_t rows, std::size_t cols, const T* src, std::size_t lds,
                           T* dst, std::size_t ldd) {
  std::size_t r0 = 0;
#if XSIMD_WITH_SSE2 && !defined(CTNN_GEMM_FORCE_SCALAR)
  if constexpr (std::is_same_v<T, float>) {
    using v4 = xsimd::batch<float, xsimd::sse2>;
    using d2 = xsimd::batch<double, xsimd::sse2>;
    for (; r0 + 4 <= rows; r0 += 4) {
      const float* s = src + r0 * lds;
      std::size_t c0 = 0;
      for (; c0 + 4 <= cols; c0 += 4) {
        const v4 x0 = v4::load_unaligned(s + c0);
        const v4 x1 = v4::load_unaligned(s + lds + c0);
        const v4 x2 = v4::load_unaligned(s + 2 * lds + c0);
        const v4 x3 = v4::load_unaligned(s + 3 * lds + c0);
        // (x0[0] x1[0] x0[1] x1[1]), (x0[2] x1[2] x0[3] x1[3]), same for x2, x3
        const d2 t0 = xsimd::bitwise_cast<d2>(xsimd::zip_lo(x0, x1));
        const d2 t1 = xsimd::bitwise_cast<d2>(xsimd::zip_hi(x0, x1));
        const d2 t2 = xsimd::bitwise_cast<d2>(xsimd::zip_lo(x2, x3));
        const d2 t3 = xsimd::bitwise_cast<d2>(xsimd::zip_hi(x2, x3));
        float* d = dst + c0 * ldd + r0;
        xsimd::bitwise_cast<v4>(xsimd::zip_lo(t0, t2)).store_unaligned(d);
        xsimd::bitwise_cast<v4>(xsimd::zip_hi(t0, t2)).store_unaligned(d + ldd);
        xsimd::bitwise_cast<v4>(xsimd::zip_lo(t1, t3)).store_unaligned(d + 2 * ldd);
        xsimd::bitwise_cast<v4>(xsimd::zip_hi(t1, t3)).store_unaligned(d + 3 * ldd);
      }
      for (; c0 < cols; ++c0)
        for (std::size_t r = 0; r < 4; ++r) dst[c0 * ldd + r0 + r] = s[r * lds + c0];
    }
  } else if constexpr (std::is_same_v<T, double>) {
    using d2 = xsimd::batch<double, xsimd::sse2>;
    for (; r0 + 2 <= rows; r0 += 2) {
      const double* s = src + r0 * lds;
      std::size_t c0 = 0;
      for (; c0 + 2 <= cols; c0 += 2) {
        const d2 x0 = d2::load_unaligned(s + c0);
        const d2 x1 = d2::load_unaligned(s + lds + c0);
        double* d = dst + c0 * ldd + r0;
        xsimd::zip_lo(x0, x1).store_unaligned(d);
        xsimd::zip_hi(x0, x1).store_unaligned(d + ldd);
      }
      for (; c0 < cols; ++c0)
        for (std::size_t r = 0; r < 2; ++r) dst[c0 * ldd + r0 + r] = s[r * lds + c0];
    }
  }
#endif
  for (std::size_t r = r0; r < rows; ++r) {
    const T* s = src + r * lds;
    T* d = dst + r;
    for (std::size_t c = 0; c < cols; ++c, d += ldd) *d = s[c];
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// copy_block(rows, cols, src, lds, dst, ldd): dst[r * ldd + c] = src[r * lds + c], in 16-byte
// pieces where SSE2 is available (edge tiles of C: a few columns per row).
template <class T>
inline void copy_block(std::size_t rows, std::size_t cols, const T* src, std::size_t lds, T* dst,
                       std::size_t ldd) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* s = src + r * lds;
    T* d = dst + r * ldd;
    std::size_t c = 0;
#if XSIMD_WITH_SSE2 && !defined(CTNN_GEMM_FORCE_SCALAR)
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      using v = xsimd::batch<T, xsimd::sse2>;
      for (; c + v::size <= cols; c += v::size) v::load_unaligned(s + c).store_unaligned(d + c);
    }
#endif
    for (; c < cols; ++c) d[c] = s[c];
  }
}

// pack_a: mr rows x kc steps of op(A) starting at `a` (already offset to (i0, p0)).
//   !trans_a: op(A)(i, p) = a[i * lda + p]   trans_a: op(A)(i, p) = a[p * lda + i]
template <std::size_t MR, class T>
inline void pack_a(bool trans_a, std::size_t mr, std::size_t kc, const T* a, std::size_t lda,
                   T* pa) {
  if (trans_a) {
    if (mr == MR)  // fixed-size copies the compiler turns into a few vector moves
      for (std::size_t p = 0; p < kc; ++p) std::memcpy(pa + p * MR, a + p * lda, MR * sizeof(T));
    else
      for (std::size_t p = 0; p < kc; ++p)
        for (std::size_t i = 0; i < mr; ++i) pa[p * mr + i] = a[p * lda + i];
  } else {
    transpose_copy(mr, kc, a, lda, pa, mr);
  }
}

// pack_b_tail: the last, partial panel of nr < NR columns, zero-padded to width w.
template <class T>
inline void pack_b_tail(bool trans_b, std::size_t kc, std::size_t nr, std::size_t w, const T* b,
                        std::size_t ldb, T* dst) {
  if (!trans_b) {
    for (std::size_t p = 0; p < kc; ++p) {
      for (std::size_t j = 0; j < nr; ++j) dst[p * w + j] = b[p * ldb + j];
      for (std::size_t j = nr; j < w; ++j) dst[p * w + j] = T(0);
    }
  } else {
    transpose_copy(nr, kc, b, ldb, dst, w);
    for (std::size_t p = 0; p < kc; ++p)
      for (std::size_t j = nr; j < w; ++j) dst[p * w + j] = T(0);
  }
}

// pack_b: kc steps x nc columns of op(B) starting at `b` (already offset to (p0, j0)), in
// panels of NR columns; the last panel is padded with zeros to a multiple of W.
//   !trans_b: op(B)(p, j) = b[p * ldb + j]   trans_b: op(B)(p, j) = b[j * ldb + p]
template <std::size_t NR, std::size_t W, class T>
inline void pack_b(bool trans_b, std::size_t kc, std::size_t nc, const T* b, std::size_t ldb,
                   T* pb) {
  const std::size_t full = nc / NR * NR;  // columns in full panels
  const std::size_t nr = nc - full;       // columns in the last, partial panel
  const std::size_t w = (nr + W - 1) / W * W;
  T* tail = pb + full * kc;
  if (!trans_b) {
    // Row by row of B (sequential reads), scattering NR-wide pieces to the panels.
    for (std::size_t p = 0; p < kc; ++p) {
      const T* src = b + p * ldb;
      for (std::size_t j0 = 0; j0 < full; j0 += NR)
        std::memcpy(pb + j0 * kc + p * NR, src + j0, NR * sizeof(T));
    }
  } else {
    for (std::size_t j0 = 0; j0 < full; j0 += NR)
      transpose_copy(NR, kc, b + j0 * ldb, ldb, pb + j0 * kc, NR);
  }
  if (nr) pack_b_tail(trans_b, kc, nr, w, trans_b ? b + full * ldb : b + full, ldb, tail);
}

}  // namespace ctnn::kernels::cpu::detail
