#pragma once
// GEMM inner-product path for C = alpha * A * B^T + beta * C with A stored (M,K) and B stored
// (N,K): both operands are contiguous along K, so a small tile of C can be computed as dot
// products straight from the operands, vectorised along K, with no packing at all. It wins
// when C is too small for packing to pay off (M or N within one register block, K long), e.g.
// a convolution's weight gradient dW (F, C*kh*kw) = dY (F, OH*OW) x cols^T.
//   Tile: DM x DN dot products with DM * DN == W (vector width), one vector accumulator each;
//   per K step of W: DM + DN loads, W FMAs. xsimd::haddp turns the W accumulators into one
//   vector of W sums, the K remainder (< W) is added in scalar.
#include <xsimd/xsimd.hpp>

#include <array>
#include <cstddef>

#include "ctnn/kernels/cpu/detail/gemm_config.hpp"

// GCC 12 flags the _mm512_undefined_ps inside the AVX-512 shuffle intrinsics that haddp uses
// as (maybe) uninitialised once they are inlined here: a known false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace ctnn::kernels::cpu::detail {

// dot_tile<T, Arch>: DM x DN with DM * DN == W, DM >= DN.
template <class T, class Arch>
struct dot_tile {
  static constexpr std::size_t width = simd_policy<T, Arch>::width;
  static constexpr std::size_t dn = width >= 16 ? 4 : width >= 4 ? 2 : 1;
  static constexpr std::size_t dm = width / dn;
};

// dot_mask<T, W>::values + r: W - r zeros then r ones.
template <class T, std::size_t W>
struct dot_mask {
  static constexpr auto make() {
    std::array<T, 2 * W> v{};
    for (std::size_t i = W; i < 2 * W; ++i) v[i] = T(1);
    return v;
  }
  alignas(64) static constexpr std::array<T, 2 * W> array = make();
  static constexpr const T* values = array.data();
};

// haddp_slots<T, Arch>()[t]: the lane of xsimd::haddp(rows) that holds the sum of rows[t].
// It should be t, but xsimd 8.1's AVX-512 float haddp returns lanes 2-5 and 10-13 swapped in
// pairs (0 1 4 5 2 3 6 7 ...); probing once keeps this right on fixed versions too.
template <class T, class Arch>
const std::size_t* haddp_slots() {
  using P = simd_policy<T, Arch>;
  constexpr std::size_t W = P::width;
  static const std::array<std::size_t, W> slots = [] {
    typename P::vec rows[W];
    for (std::size_t t = 0; t < W; ++t) rows[t] = P::broadcast(T(t));
    alignas(64) T sums[W];
    xsimd::haddp(rows).store_aligned(sums);
    std::array<std::size_t, W> s{};
    for (std::size_t lane = 0; lane < W; ++lane)
      s[static_cast<std::size_t>(sums[lane]) / W] = lane;  // sums[lane] == W * t
    return s;
  }();
  return slots.data();
}

// A DM x DN tile (DM * DN == W) of C: rows a, a + lda, ... and columns b, b + ldb, ...; rows or
// columns beyond m / n repeat the last valid one (computed, not stored).
template <class T, class Arch, std::size_t DM, std::size_t DN>
void dot_kernel(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
                const T* b, std::size_t ldb, T beta, T* c, std::size_t rs_c, std::size_t cs_c) {
  using P = simd_policy<T, Arch>;
  using vec = typename P::vec;
  constexpr std::size_t W = P::width;
  static_assert(DM * DN == W, "one accumulator per lane of the haddp result");
  const T* ar[DM];
  const T* br[DN];
  unroll<DM>([&](auto i) CTNN_GEMM_LAMBDA_INLINE { ar[i] = a + (i < m ? i : m - 1) * lda; });
  unroll<DN>([&](auto j) CTNN_GEMM_LAMBDA_INLINE { br[j] = b + (j < n ? j : n - 1) * ldb; });

  vec acc[DM * DN];
  unroll<DM * DN>([&](auto t) CTNN_GEMM_LAMBDA_INLINE { acc[t] = P::zero(); });
  const auto step = [&](std::size_t p, auto load) CTNN_GEMM_LAMBDA_INLINE {
    vec av[DM], bv[DN];
    unroll<DM>([&](auto i) CTNN_GEMM_LAMBDA_INLINE { av[i] = load(ar[i] + p); });
    unroll<DN>([&](auto j) CTNN_GEMM_LAMBDA_INLINE { bv[j] = load(br[j] + p); });
    unroll<DM>([&](auto i) CTNN_GEMM_LAMBDA_INLINE {
      unroll<DN>([&](auto j) CTNN_GEMM_LAMBDA_INLINE {
        acc[i * DN + j] = P::fma(av[i], bv[j], acc[i * DN + j]);
      });
    });
  };
  const std::size_t kv = k / W * W;
  for (std::size_t p = 0; p < kv; p += W)
    step(p, [](const T* x) CTNN_GEMM_LAMBDA_INLINE { return P::load(x); });
  if (kv != k) {
    // The last W values (k >= W, or earlier values of the same rows precede them), with the
    // lanes already summed replaced by zeros in both operands (so no 0 * inf).
    const auto keep = P::load(dot_mask<T, W>::values + (k - kv)) != P::zero();
    step(k - W, [&](const T* x) CTNN_GEMM_LAMBDA_INLINE {
      return xsimd::select(keep, P::load(x), P::zero());
    });
  }
  alignas(64) T sum[W];
  const std::size_t* slot = haddp_slots<T, Arch>();
  xsimd::haddp(acc).store_aligned(sum);  // sum[slot[t]] = sum of acc[t]
  for (std::size_t i = 0; i < DM && i < m; ++i) {
    for (std::size_t j = 0; j < DN && j < n; ++j) {
      const T s = sum[slot[i * DN + j]];
      T& cij = c[i * rs_c + j * cs_c];
      cij = alpha * s + (beta == T(0) ? T(0) : beta * cij);
    }
  }
}

// dot_tiles<DM, DN>(m, n, k, ...): C(m, n) in DM x DN tiles, the operand with fewer rows in the
// inner loop (it is the one re-read, so the one that stays in L1).
template <class T, class Arch, std::size_t DM, std::size_t DN>
void dot_tiles(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
               const T* b, std::size_t ldb, T beta, T* c, std::size_t rs_c, std::size_t cs_c) {
  const auto run = [&](std::size_t i, std::size_t j) {
    dot_kernel<T, Arch, DM, DN>(m - i, n - j, k, alpha, a + i * lda, lda, b + j * ldb, ldb, beta,
                                c + i * rs_c + j * cs_c, rs_c, cs_c);
  };
  if (m <= n) {
    for (std::size_t j = 0; j < n; j += DN)
      for (std::size_t i = 0; i < m; i += DM) run(i, j);
  } else {
    for (std::size_t i = 0; i < m; i += DM)
      for (std::size_t j = 0; j < n; j += DN) run(i, j);
  }
}

// C(m, n) = alpha * A(m, k) * B(n, k)^T + beta * C, C(i, j) at c[i * rs_c + j * cs_c], k >= W.
// Whole DM x DN tiles, then the rows below them in 1 x W tiles and the columns to their right
// in W x 1 tiles, so no dot product is computed for nothing. K is cut into blocks that keep the
// re-read operand's (rows x kd) slice within 32 KiB of L1.
template <class T, class Arch>
void gemm_dot(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
              const T* b, std::size_t ldb, T beta, T* c, std::size_t rs_c, std::size_t cs_c) {
  using tile = dot_tile<T, Arch>;
  constexpr std::size_t DM = tile::dm, DN = tile::dn, W = tile::width;
  const std::size_t small_rows = m < n ? m : n;
  std::size_t kd = (std::size_t(32) << 10) / (sizeof(T) * small_rows) / W * W;
  if (kd < 8 * W) kd = 8 * W;
  const std::size_t blocks = (k + kd - 1) / kd;
  kd = ((k + blocks - 1) / blocks + W - 1) / W * W;  // balanced, whole vectors
  const std::size_t m0 = m / DM * DM, n0 = n / DN * DN;
  for (std::size_t p0 = 0; p0 < k; p0 += kd) {
    const std::size_t kb = k - p0 < kd ? k - p0 : kd;
    const T beta_k = p0 == 0 ? beta : T(1);
    const T* ap = a + p0;
    const T* bp = b + p0;
    if (m0 && n0)
      dot_tiles<T, Arch, DM, DN>(m0, n0, kb, alpha, ap, lda, bp, ldb, beta_k, c, rs_c, cs_c);
    if (m0 && n0 != n)  // columns right of the whole tiles
      dot_tiles<T, Arch, W, 1>(m0, n - n0, kb, alpha, ap, lda, bp + n0 * ldb, ldb, beta_k,
                               c + n0 * cs_c, rs_c, cs_c);
    if (m0 != m)  // rows below, full width
      dot_tiles<T, Arch, 1, W>(m - m0, n, kb, alpha, ap + m0 * lda, lda, bp, ldb, beta_k,
                               c + m0 * rs_c, rs_c, cs_c);
  }
}

}  // namespace ctnn::kernels::cpu::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
