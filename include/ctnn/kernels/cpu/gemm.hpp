#pragma once
// Fast CPU GEMM (xsimd + OpenMP), same contract as kernels/reference/gemm.hpp:
//   C = alpha * op(A) * op(B) + beta * C, row-major; beta == 0 ignores C's contents (NaN too).
//
// Structure (BLIS-style, see docs/performance.md for measurements):
//   for jc in N by NC          B block (KC x NC) packed once per (jc, pc), lives in L2
//    for pc in K by KC         first K block applies beta, later ones accumulate (beta = 1)
//     for ic in M by MR        A micro-panel (MR x KC) packed (or read in place), lives in L1
//      for jr in NC by NR      micro-kernel: MR x NR tile of C in registers, FMA over KC
// Edge tiles use micro-kernels instantiated for smaller row and vector counts, so m, n need not
// be multiples of the register block. Shapes the blocked path handles badly take a detour:
//   B stored (K,N), K <= 16 or M <= MR: B is read in place, not packed (3x3 convolution: K = 9)
//   narrow N, A stored (K,M)  C^T = op(B)^T op(A)^T is computed instead, C written transposed
//   A (M,K) x B (N,K)^T with M <= MR or N <= NR and long K: inner products (detail/gemm_dot.hpp)
//   A (M,K) x B (K,N) with N below half a vector: B transposed, then inner products
// Threads (OpenMP, when the product is large enough and not already inside a parallel region)
// each own a disjoint rectangle of C and run the serial algorithm on it; every element sees the
// same arithmetic in the same order whatever the partition, so results do not depend on the
// thread count (bitwise; tests/unit/test_gemm.cpp checks it).
//
// The instruction set is chosen at compile time (gemm_default_arch, see detail/gemm_config.hpp
// for why a header-only library cannot dispatch at run time with xsimd 8.1).
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "ctnn/config.hpp"
#include "ctnn/kernels/cpu/detail/gemm_config.hpp"
#include "ctnn/kernels/cpu/detail/gemm_dot.hpp"
#include "ctnn/kernels/cpu/detail/gemm_micro_kernel.hpp"
#include "ctnn/kernels/cpu/detail/gemm_pack.hpp"
#include "ctnn/kernels/cpu/detail/gemm_workspace.hpp"

#if CTNN_HAS_OPENMP
#include <omp.h>
#endif

namespace ctnn::kernels::cpu {
namespace detail {

template <class T>
using micro_kernel_fn = void (*)(std::size_t, const T*, std::size_t, const T*, std::size_t,
                                 std::size_t, std::size_t, T*, std::size_t, std::size_t,
                                 std::size_t, T, T);

// Row counts with a micro-kernel of their own: MR, then the powers of two below it. An edge
// panel of r < MR rows runs as a sum of these (r = 8 + 2 + 1, ...), each at full efficiency,
// which needs far fewer instantiations than one kernel per row count.
template <std::size_t MR>
inline constexpr auto mr_variants = [] {
  std::array<std::size_t, 8> v{};
  std::size_t count = 0;
  v[count++] = MR;
  for (std::size_t p = std::size_t(1) << 6; p; p >>= 1)
    if (p < MR) v[count++] = p;
  return std::pair{v, count};
}();

// Calls f(r, i0) for the row blocks an mr-row panel (mr <= MR) is run as: rows [i0, i0 +
// mr_variants<MR>.first[r]), largest first (remainders below MR are sums of distinct powers of
// two).
template <std::size_t MR, class F>
CTNN_GEMM_INLINE void for_each_row_block(std::size_t mr, F&& f) {
  std::size_t i0 = 0;
  for (std::size_t r = 0; i0 < mr; ++r) {
    const std::size_t rows = mr_variants<MR>.first[r];
    if (rows > mr - i0) continue;
    f(r, i0);
    i0 += rows;
  }
}

// micro_kernels<T, Arch, MR, NV, contiguous>::table[r][nv - 1]: the kernel for
// mr_variants<MR>[r] rows and nv vectors (nv <= NV).
template <class T, class Arch, std::size_t MR, std::size_t NV, bool contiguous>
struct micro_kernels {
  static constexpr std::size_t count = mr_variants<MR>.second;
  template <std::size_t R, std::size_t... V>
  static constexpr auto make_row(std::index_sequence<V...>) {
    return std::array<micro_kernel_fn<T>, NV>{
        &micro_kernel<T, Arch, mr_variants<MR>.first[R], V + 1, contiguous>...};
  }
  template <std::size_t... R>
  static constexpr auto make(std::index_sequence<R...>) {
    return std::array<std::array<micro_kernel_fn<T>, NV>, count>{
        make_row<R>(std::make_index_sequence<NV>{})...};
  }
  static constexpr auto table = make(std::make_index_sequence<count>{});
};

// B stored (K,N) is read in place rather than packed when K <= this (a handful of rows stays
// in L1 anyway and packing would cost as much as the multiply) or when M fits one register
// block (each panel would be packed to be used once).
inline constexpr std::size_t gemm_direct_b_max_k = 16;

// One thread's share, k > 0: C(m, n) = alpha * op(A)(m, k) * op(B)(k, n) + beta * C, with
// C(i, j) at c[i * rs_c + j * cs_c] (cs_c == 1 unless the caller swapped the operands).
template <class T, class Arch>
void gemm_serial(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                 T alpha, const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c,
                 std::size_t rs_c, std::size_t cs_c) {
  using blk = gemm_blocking<T, Arch>;
  constexpr std::size_t MR = blk::mr, NR = blk::nr, NV = blk::nv, W = blk::width;
  constexpr auto& packed_kernels = micro_kernels<T, Arch, MR, NV, true>::table;

  // Balanced blocks: K split into equal chunks of at most KC, N into chunks of at most NC
  // rounded up to whole panels.
  const std::size_t k_blocks = (k + blk::kc - 1) / blk::kc;
  const std::size_t kc_max = (k + k_blocks - 1) / k_blocks;
  const std::size_t n_blocks = (n + blk::nc - 1) / blk::nc;
  const std::size_t nc_max = ((n + n_blocks - 1) / n_blocks + NR - 1) / NR * NR;
  const bool direct_b = !trans_b && (kc_max <= gemm_direct_b_max_k || m <= MR);

  auto& ws = gemm_workspace<T>::local();
  T* pb = ws.b.get(kc_max * (direct_b ? NR : nc_max));
  T* pa = ws.a.get(kc_max * MR);

  for (std::size_t jc = 0; jc < n; jc += nc_max) {
    const std::size_t nc = n - jc < nc_max ? n - jc : nc_max;
    const std::size_t panels = (nc + NR - 1) / NR;
    const std::size_t full = nc / NR * NR;  // columns in full panels
    for (std::size_t pc = 0; pc < k; pc += kc_max) {
      const std::size_t kc = k - pc < kc_max ? k - pc : kc_max;
      const T beta_k = pc == 0 ? beta : T(1);
      // (kc, nc) block of op(B): panels of NR columns; read in place when direct_b, except
      // the partial last panel, which needs zero padding.
      const T* b_blk = trans_b ? b + jc * ldb + pc : b + pc * ldb + jc;
      const T* tail = nullptr;
      if (direct_b) {
        if (full != nc) pack_b_tail(false, kc, nc - full, (nc - full + W - 1) / W * W,
                                    b_blk + full, ldb, pb);
        tail = pb;
      } else {
        pack_b<NR, W>(trans_b, kc, nc, b_blk, ldb, pb);
        tail = pb + full * kc;
      }
      for (std::size_t ic = 0; ic < m; ic += MR) {
        const std::size_t mr = m - ic < MR ? m - ic : MR;
        const T* a_src = trans_a ? a + pc * lda + ic : a + ic * lda + pc;
        // (mr, kc) micro-panel of op(A): packed, except when one B panel uses it and A is
        // stored (K,M), which is already the packed layout (with stride lda). A stored (M,K) is
        // packed even for a single panel: that costs 1/NR of the multiply, and the micro-kernel
        // then needs one instantiation per tile shape, not two (compile time: each is ~0.1 s).
        const T* a_use = a_src;
        std::size_t a_step = lda;
        if (panels > 1 || !trans_a) {
          pack_a<MR>(trans_a, mr, kc, a_src, lda, pa);
          a_use = pa;
          a_step = mr;
        }
        // Full panels use the MR-row kernel; an edge panel is split into row counts that have
        // kernels of their own, largest first.
        for_each_row_block<MR>(mr, [&](std::size_t r, std::size_t i0) CTNN_GEMM_LAMBDA_INLINE {
          const auto& row = packed_kernels[r];
          const T* a_rows = a_use + i0;
          T* c_rows = c + (ic + i0) * rs_c + jc * cs_c;
          // The full panels in one call when C is row-major, else one call per panel; then
          // the partial last panel.
          const std::size_t run = cs_c == 1 ? full / NR : 1;
          for (std::size_t jr = 0; jr < full; jr += run * NR)
            row[NV - 1](kc, a_rows, a_step, direct_b ? b_blk + jr : pb + jr * kc,
                        direct_b ? ldb : NR, direct_b ? NR : NR * kc, run, c_rows + jr * cs_c,
                        rs_c, cs_c, NR, alpha, beta_k);
          if (full != nc) {
            const std::size_t nv = (nc - full + W - 1) / W;
            row[nv - 1](kc, a_rows, a_step, tail, nv * W, 0, 1, c_rows + full * cs_c, rs_c, cs_c,
                        nc - full, alpha, beta_k);
          }
        });
      }
    }
  }
}

// C = alpha * 0 + beta * C, the k == 0 case, exactly as the reference computes it.
template <class T>
void scale_c(std::size_t m, std::size_t n, T alpha, T beta, T* c, std::size_t ldc) {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      c[i * ldc + j] = alpha * T(0) + (beta == T(0) ? T(0) : beta * c[i * ldc + j]);
}

// Split tiles_m x tiles_n register tiles over `threads` as a tm x tn grid, minimising the
// largest per-thread cost: tile area (multiply-adds per k) plus the packing of its A rows and B
// columns (~16 multiply-adds per packed element).
struct thread_grid {
  std::size_t tm = 1, tn = 1;
};
inline thread_grid choose_grid(std::size_t threads, std::size_t tiles_m, std::size_t tiles_n,
                               std::size_t mr, std::size_t nr) {
  thread_grid best;
  double best_cost = -1;
  for (std::size_t tm = 1; tm <= threads; ++tm) {
    if (threads % tm) continue;
    const std::size_t tn = threads / tm;
    if (tm > tiles_m || tn > tiles_n) continue;
    const double rows = double((tiles_m + tm - 1) / tm * mr);
    const double cols = double((tiles_n + tn - 1) / tn * nr);
    const double cost = rows * cols + 16.0 * (rows + cols);
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best = {tm, tn};
    }
  }
  return best;
}

// Compute C^T instead of C when N is narrow and M is not: columns are padded to whole vectors,
// so (M=500, N=9) wastes 7/16 of every FMA while (N=9, M=500) wastes little. Only when A is
// stored (K,M): then op(A)^T, the new B, packs by plain copies; the transposed tile is written
// element by element, which the depth (k) has to pay for. (Measured: with A stored (M,K) the
// transposing pack costs more than the padding saves.)
inline bool swap_operands(bool trans_a, std::size_t m, std::size_t n, std::size_t k,
                          std::size_t width) {
  const auto padded = [width](std::size_t x) { return (x + width - 1) / width * width; };
  return trans_a && k >= 64 && 4 * padded(n) * m > 5 * padded(m) * n;
}

// Below this many multiply-adds per thread (~2 us of work at the reference machine's speed),
// one thread is used. A parallel region costs about a microsecond on an idle machine but up
// to a scheduler time slice when the partner core is busy, which is why this is not lower:
// 2^16 would split even conv1's per-sample GEMM (32 x 676 x 9 = 195k) and gained only ~5% on
// an idle machine. Layers that parallelise over samples call GEMM inside their own parallel
// region, where GEMM always runs serially. Override with -DCTNN_GEMM_MIN_MACS_PER_THREAD=n.
#ifndef CTNN_GEMM_MIN_MACS_PER_THREAD
#define CTNN_GEMM_MIN_MACS_PER_THREAD (std::size_t(1) << 18)
#endif
inline constexpr std::size_t gemm_min_macs_per_thread = CTNN_GEMM_MIN_MACS_PER_THREAD;

}  // namespace detail

namespace detail {

// for_each_share(m, n, k, tile_m, tile_n, f): f(m0, m1, n0, n1) over a partition of the
// (m, n) output into one rectangle per thread (whole tiles each), or f(0, m, 0, n) alone when
// the product is too small for threads or we already are inside a parallel region.
template <class F>
void for_each_share(std::size_t m, std::size_t n, [[maybe_unused]] std::size_t k,
                    [[maybe_unused]] std::size_t tile_m, [[maybe_unused]] std::size_t tile_n,
                    F&& f) {
  std::size_t threads = 1;
#if CTNN_HAS_OPENMP
  if (!omp_in_parallel()) {
    const std::size_t by_work = m * n * k / gemm_min_macs_per_thread;
    const std::size_t available = static_cast<std::size_t>(omp_get_max_threads());
    threads = by_work < available ? by_work : available;
  }
#endif
  if (threads <= 1) {
    f(std::size_t(0), m, std::size_t(0), n);
    return;
  }
#if CTNN_HAS_OPENMP
  const std::size_t tiles_m = (m + tile_m - 1) / tile_m;
  const std::size_t tiles_n = (n + tile_n - 1) / tile_n;
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    // The team may be smaller than asked for; every thread derives the same grid from its size.
    const std::size_t team = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
    const thread_grid g = choose_grid(team, tiles_m, tiles_n, tile_m, tile_n);
    if (t < g.tm * g.tn) {
      const std::size_t ti = t / g.tn, tj = t % g.tn;
      const std::size_t m0 = std::min(m, tiles_m * ti / g.tm * tile_m);
      const std::size_t m1 = std::min(m, tiles_m * (ti + 1) / g.tm * tile_m);
      const std::size_t n0 = std::min(n, tiles_n * tj / g.tn * tile_n);
      const std::size_t n1 = std::min(n, tiles_n * (tj + 1) / g.tn * tile_n);
      if (m1 > m0 && n1 > n0) f(m0, m1, n0, n1);
    }
  }
#endif
}

// The inner-product path (gemm_dot.hpp) for A (M,K) x B (N,K)^T: when K is long and C so short
// or narrow that the packed path would pack a panel to use it once (conv1's weight gradient,
// 32 x 9 x 676: 1.0x OpenBLAS this way, 0.45x through packing).
// With B stored (K,N) and N below half a vector (tall-skinny C: every FMA of the packed path
// would be mostly padding) B is transposed first, N x K values, and the same path runs
// (measured: 500 x 1 x 300 goes from 0.25x to 0.9x OpenBLAS; wider N gains nothing).
enum class dot_use { no, direct, transpose_b };
template <class T, class Arch>
dot_use use_dot(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k) {
  using blk = gemm_blocking<T, Arch>;
  if constexpr (blk::width < 2) {
    return dot_use::no;
  } else {
    if (trans_a) return dot_use::no;
    if (trans_b)
      return k >= 8 * blk::width && (m <= blk::mr || n <= blk::nr) ? dot_use::direct
                                                                     : dot_use::no;
    return k >= 4 * blk::width && 2 * n < blk::width && m > blk::mr ? dot_use::transpose_b
                                                                     : dot_use::no;
  }
}

}  // namespace detail

// C = alpha * op(A) * op(B) + beta * C with the kernels compiled for Arch (an xsimd
// architecture the compiler flags enable, or scalar_arch).
// op(A): (M,K), stored (M,K) with leading dimension lda, or (K,M) when trans_a.
// op(B): (K,N), stored (K,N) with leading dimension ldb, or (N,K) when trans_b.
// C: (M,N) with leading dimension ldc.
template <class Arch, class T>
void gemm_for_arch(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                   T alpha, const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta,
                   T* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    detail::scale_c(m, n, alpha, beta, c, ldc);
    return;
  }
  using blk = detail::gemm_blocking<T, Arch>;
  if constexpr (blk::width >= 2) {
    const detail::dot_use dot = detail::use_dot<T, Arch>(trans_a, trans_b, m, n, k);
    if (dot != detail::dot_use::no) {
      if (dot == detail::dot_use::transpose_b) {  // (K,N) => (N,K), read by every thread
        T* bt = detail::gemm_workspace<T>::local().bt.get(n * k);
        detail::transpose_copy(k, n, b, ldb, bt, k);
        b = bt;
        ldb = k;
      }
      using tile = detail::dot_tile<T, Arch>;
      detail::for_each_share(m, n, k, tile::dm, tile::dn,
                             [&](std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
                               detail::gemm_dot<T, Arch>(m1 - m0, n1 - n0, k, alpha,
                                                         a + m0 * lda, lda, b + n0 * ldb, ldb,
                                                         beta, c + m0 * ldc + n0, ldc, 1);
                             });
      return;
    }
  }
  std::size_t rs_c = ldc, cs_c = 1;
  if (detail::swap_operands(trans_a, m, n, k, blk::width)) {
    // C^T (N,M) = op(B)^T (N,K) x op(A)^T (K,M): narrow C becomes wide, written transposed.
    std::swap(m, n);
    std::swap(a, b);
    std::swap(lda, ldb);
    const bool ta = trans_a;
    trans_a = !trans_b;
    trans_b = !ta;
    std::swap(rs_c, cs_c);
  }
  detail::for_each_share(
      m, n, k, blk::mr, blk::nr,
      [&](std::size_t m0, std::size_t m1, std::size_t n0, std::size_t n1) {
        detail::gemm_serial<T, Arch>(trans_a, trans_b, m1 - m0, n1 - n0, k, alpha,
                                     trans_a ? a + m0 : a + m0 * lda, lda,
                                     trans_b ? b + n0 * ldb : b + n0, ldb, beta,
                                     c + m0 * rs_c + n0 * cs_c, rs_c, cs_c);
      });
}

// C = alpha * op(A) * op(B) + beta * C with the best kernels the compiler flags allow.
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,
          const T* a, std::size_t lda, const T* b, std::size_t ldb, T beta, T* c,
          std::size_t ldc) {
  gemm_for_arch<gemm_default_arch>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                                   ldc);
}

// For one op(A) multiplied with many right-hand sides (the Winograd convolution's 16 GEMMs
// per band of tiles): op(A) (M,K) packed once into micro-panels, then C = op(A) x B, serially,
// with B (K,N) read in place. Its rows must be readable a vector past column N (the last
// partial panel reads whole vectors), which must hold finite numbers.
template <class T>
std::size_t packed_a_size(std::size_t m, std::size_t k) {
  constexpr std::size_t MR = detail::gemm_blocking<T, gemm_default_arch>::mr;
  return (m + MR - 1) / MR * MR * k;
}

// op(A): stored (M,K) with leading dimension lda, or (K,M) when trans_a.
template <class T>
void pack_a_panels(bool trans_a, std::size_t m, std::size_t k, const T* a, std::size_t lda, T* pa) {
  constexpr std::size_t MR = detail::gemm_blocking<T, gemm_default_arch>::mr;
  for (std::size_t ic = 0; ic < m; ic += MR)
    detail::pack_a<MR>(trans_a, std::min(MR, m - ic), k, trans_a ? a + ic : a + ic * lda, lda,
                       pa + ic * k);
}

// C (M,N) = op(A) x B, C overwritten; pa from pack_a_panels.
template <class T>
void gemm_packed_a(std::size_t m, std::size_t n, std::size_t k, const T* pa, const T* b,
                   std::size_t ldb, T* c, std::size_t ldc) {
  using blk = detail::gemm_blocking<T, gemm_default_arch>;
  constexpr std::size_t MR = blk::mr, NR = blk::nr, NV = blk::nv, W = blk::width;
  constexpr auto& kernels = detail::micro_kernels<T, gemm_default_arch, MR, NV, true>::table;
  const std::size_t full = n / NR * NR;
  for (std::size_t ic = 0; ic < m; ic += MR) {
    const std::size_t mr = std::min(MR, m - ic);
    const T* panel = pa + ic * k;
    detail::for_each_row_block<MR>(mr, [&](std::size_t r, std::size_t i0) {
      const auto& row = kernels[r];
      T* c_rows = c + (ic + i0) * ldc;
      if (full) row[NV - 1](k, panel + i0, mr, b, ldb, NR, full / NR, c_rows, ldc, 1, NR, T(1), T(0));
      if (full != n) {
        const std::size_t nv = (n - full + W - 1) / W;
        row[nv - 1](k, panel + i0, mr, b + full, ldb, 0, 1, c_rows + full, ldc, 1, n - full, T(1),
                    T(0));
      }
    });
  }
}

// Name of the instruction set cpu::gemm was compiled for ("avx512bw", "fma3+avx2", "sse2", ...).
inline const char* gemm_arch_name() noexcept { return gemm_default_arch::name(); }

}  // namespace ctnn::kernels::cpu
