#pragma once
// GEMM inner-product path for C = alpha * A * B^T + beta * C with A stored (M,K) and B stored
// (N,K): both operands are contiguous along K, so a small tile of C can be computed as dot
// products straight from the operands, vectorised along K, with no packing at all. It wins
// when C is too small for packing to pay off (M or N within one register block, K long), e.g.
// a convolution's weight gradient dW (F, C*kh*kw) = dY (F, OH*OW) x cols^T.
//   Tile: DM x DN dot products with DM * DN == W (vector width), one vector accumulator each;
//   per K step of W: DM + DN loads, W FMAs. A shuffle tree turns the W accumulators into one
//   vector of W sums; the K remainder (< W) is one more step over the last W values with the
//   already counted lanes zeroed. Edge rows / columns use 1 x W and W x 1 tiles.
#include <xsimd/xsimd.hpp>

#include <array>
#include <cstddef>
#include <utility>

#include "ctnn/kernels/cpu/detail/gemm_config.hpp"

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

// reduce_lanes<T, Arch>(acc): the vector whose lane t is the sum of the lanes of acc[t], for
// W = width accumulators. A tree of log2(W) levels: each combines two vectors, keeping for every
// accumulator half of its partial sums (the lower half of its segment plus the upper half), so
// the last level leaves one partial sum, the total, per accumulator, in order. The shuffles are
// compiler builtins on the register type (xsimd 8.1 has no generic two-input shuffle, and its
// haddp returns AVX-512 lanes out of order).
constexpr std::size_t ilog2(std::size_t x) { return x <= 1 ? 0 : 1 + ilog2(x / 2); }

template <std::size_t W, std::size_t L, std::size_t... O>
constexpr auto fold_mask(bool upper, std::index_sequence<O...>) {
  // Output lane o of folding u, v (segments of length L, W / L per vector, lanes of v numbered
  // from W): segment o / (L / 2), offset o % (L / 2), from the lower or upper half of it.
  constexpr std::size_t S = W / L, H = L / 2;
  return std::array<int, sizeof...(O)>{
      static_cast<int>((O / H < S ? 0 : W) + (O / H % S) * L + (upper ? H : 0) + O % H)...};
}

template <std::size_t W, std::size_t L, class R, std::size_t... O>
CTNN_GEMM_INLINE R fold(R u, R v, std::index_sequence<O...> lanes) {
  constexpr auto lo = fold_mask<W, L>(false, lanes);
  constexpr auto hi = fold_mask<W, L>(true, lanes);
  return __builtin_shufflevector(u, v, lo[O]...) + __builtin_shufflevector(u, v, hi[O]...);
}

template <class T, class Arch>
CTNN_GEMM_INLINE typename simd_policy<T, Arch>::vec reduce_lanes(
    const typename simd_policy<T, Arch>::vec* acc) {
  using vec = typename simd_policy<T, Arch>::vec;
  using reg = typename vec::register_type;
  constexpr std::size_t W = simd_policy<T, Arch>::width;
  reg r[W];
  CTNN_GEMM_UNROLL
  for (std::size_t t = 0; t < W; ++t) r[t] = acc[t];
  // Level l: W >> l vectors with segments of W >> l lanes; pairs fold into the first half.
  [&]<std::size_t... Level>(std::index_sequence<Level...>) CTNN_GEMM_LAMBDA_INLINE {
    (
        [&] {
          constexpr std::size_t L = W >> Level;  // segment length before this level
          constexpr std::size_t count = std::size_t(1) << (sizeof...(Level) - Level);
          CTNN_GEMM_UNROLL
          for (std::size_t i = 0; i < count / 2; ++i)
            r[i] = fold<W, L>(r[2 * i], r[2 * i + 1], std::make_index_sequence<W>{});
        }(),
        ...);
  }(std::make_index_sequence<ilog2(W)>{});
  return vec(r[0]);
}

// A DM x DN tile (DM * DN == W) of C: rows a, a + lda, ... and columns b, b + ldb, ...; rows or
// columns beyond m / n repeat the last valid one (computed, not stored).
template <class T, class Arch, std::size_t DM, std::size_t DN>
void dot_kernel(std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
                const T* b, std::size_t ldb, T beta, T* c, std::size_t rs_c, std::size_t cs_c) {
  using P = simd_policy<T, Arch>;
  using vec = typename P::vec;
  constexpr std::size_t W = P::width;
  static_assert(DM * DN == W, "one accumulator per lane of the reduced vector");
  const T* ar[DM];
  const T* br[DN];
  CTNN_GEMM_UNROLL
  for (std::size_t i = 0; i < DM; ++i) ar[i] = a + (i < m ? i : m - 1) * lda;
  CTNN_GEMM_UNROLL
  for (std::size_t j = 0; j < DN; ++j) br[j] = b + (j < n ? j : n - 1) * ldb;

  vec acc[DM * DN];
  CTNN_GEMM_UNROLL
  for (std::size_t t = 0; t < DM * DN; ++t) acc[t] = P::zero();
  // One K step of W values; `masked` replaces the first `skip` lanes by zeros in both operands.
  const auto step = [&](std::size_t p, bool masked, std::size_t skip) CTNN_GEMM_LAMBDA_INLINE {
    const auto keep = P::load(dot_mask<T, W>::values + (W - skip)) != P::zero();
    vec av[DM], bv[DN];
    CTNN_GEMM_UNROLL
    for (std::size_t i = 0; i < DM; ++i) {
      av[i] = P::load(ar[i] + p);
      if (masked) av[i] = xsimd::select(keep, av[i], P::zero());
    }
    CTNN_GEMM_UNROLL
    for (std::size_t j = 0; j < DN; ++j) {
      bv[j] = P::load(br[j] + p);
      if (masked) bv[j] = xsimd::select(keep, bv[j], P::zero());
    }
    CTNN_GEMM_UNROLL
    for (std::size_t i = 0; i < DM; ++i) {
      CTNN_GEMM_UNROLL
      for (std::size_t j = 0; j < DN; ++j)
        acc[i * DN + j] = P::fma(av[i], bv[j], acc[i * DN + j]);
    }
  };
  const std::size_t kv = k / W * W;
  for (std::size_t p = 0; p < kv; p += W) step(p, false, 0);
  // The last W values (k >= W, or earlier values of the same rows precede them), with the
  // lanes already summed replaced by zeros in both operands (so no 0 * inf).
  if (kv != k) step(k - W, true, W - (k - kv));
  alignas(64) T sum[W];
  reduce_lanes<T, Arch>(acc).store_aligned(sum);  // sum[t] = sum of the lanes of acc[t]
  for (std::size_t i = 0; i < DM && i < m; ++i) {
    for (std::size_t j = 0; j < DN && j < n; ++j) {
      const T s = sum[i * DN + j];
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
