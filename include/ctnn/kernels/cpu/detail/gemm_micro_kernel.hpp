#pragma once
// GEMM micro-kernel: MR x (NV * W) tiles of C, each kept in MR * NV vector registers.
//   C(MR, nr) = alpha * A(MR, kc) * B(kc, NV * W) + beta * C(MR, nr),  nr <= NV * W
// Each step p loads NV vectors of B (one row of the panel) and broadcasts MR values of A into
// FMAs (outer-product formulation, BLIS-style).
//   A: a_rows_contiguous: A(i, p) = a[p * a_step + i]  (packed micro-panel, or A stored (K,M))
//      otherwise:         A(i, p) = a[i * a_step + p]  (A stored (M,K), read in place)
//   B: B(p, j) = b[p * b_step + j], NV * W readable columns per row (packed panels are padded).
//   C: C(i, j) = c[i * rs_c + j * cs_c]; the vector path needs cs_c == 1 and a full tile, other
//      tiles go through a register-sized copy with exactly the same arithmetic.
// One call runs `panels` tiles side by side (C advancing by NR columns, B by b_next), so the
// per-call set-up is paid once per row panel (this matters for short K, e.g. K = 9 in a 3x3
// convolution).
// beta == 0 writes C without reading it (C may hold NaN).
#include <cstddef>

#include "ctnn/kernels/cpu/detail/gemm_config.hpp"
#include "ctnn/kernels/cpu/detail/gemm_pack.hpp"

namespace ctnn::kernels::cpu::detail {

template <class T, class Arch, std::size_t MR, std::size_t NV, bool a_rows_contiguous>
void micro_kernel(std::size_t kc, const T* a, std::size_t a_step, const T* b, std::size_t b_step,
                  std::size_t b_next, std::size_t panels, T* c, std::size_t rs_c,
                  std::size_t cs_c, std::size_t nr, T alpha, T beta) {
  using P = simd_policy<T, Arch>;
  using vec = typename P::vec;
  constexpr std::size_t W = P::width;
  constexpr std::size_t NR = NV * W;
  const bool direct = cs_c == 1 && nr == NR;  // panels > 1 implies direct

  for (std::size_t q = 0; q < panels; ++q, b += b_next, c += NR) {
    // The tile of C is written at the end: start fetching its lines now. Short K leaves little
    // time to hide the misses, so then every line of every row is fetched; longer K needs
    // only the first. (Measured; fetching the next tile's lines instead was slower.)
    if (direct) {
      CTNN_GEMM_UNROLL
      for (std::size_t i = 0; i < MR; ++i) {
        __builtin_prefetch(c + i * rs_c, 1);
        if (kc <= 32) {
          CTNN_GEMM_UNROLL
          for (std::size_t l = 1; l < (NR * sizeof(T) + 63) / 64; ++l)
            __builtin_prefetch(c + i * rs_c + l * (64 / sizeof(T)), 1);
          __builtin_prefetch(c + i * rs_c + NR - 1, 1);
        }
      }
    }

    // (MR, NR) accumulators; fully unrolled loops keep every index a constant, so they live in
    // registers.
    vec acc[MR][NV];
    CTNN_GEMM_UNROLL
    for (std::size_t i = 0; i < MR; ++i) {
      CTNN_GEMM_UNROLL
      for (std::size_t v = 0; v < NV; ++v) acc[i][v] = P::zero();
    }

    const T* bp = b;
    if constexpr (a_rows_contiguous) {
      const T* ap = a;
      for (std::size_t p = 0; p < kc; ++p) {
        vec bv[NV];
        CTNN_GEMM_UNROLL
        for (std::size_t v = 0; v < NV; ++v) bv[v] = P::load(bp + v * W);
        CTNN_GEMM_UNROLL
        for (std::size_t i = 0; i < MR; ++i) {
          const vec av = P::broadcast(ap[i]);
          CTNN_GEMM_UNROLL
          for (std::size_t v = 0; v < NV; ++v) acc[i][v] = P::fma(av, bv[v], acc[i][v]);
        }
        ap += a_step;
        bp += b_step;
      }
    } else {
      // Rows in groups of three: one pointer per group, rows at +0, +a_step, +2 * a_step
      // (scaled index addressing), so a 12-row tile needs 4 pointers and one stride register.
      constexpr std::size_t G = (MR + 2) / 3;
      const T* ag[G];
      CTNN_GEMM_UNROLL
      for (std::size_t g = 0; g < G; ++g) ag[g] = a + 3 * g * a_step;
      for (std::size_t p = 0; p < kc; ++p) {
        vec bv[NV];
        CTNN_GEMM_UNROLL
        for (std::size_t v = 0; v < NV; ++v) bv[v] = P::load(bp + v * W);
        CTNN_GEMM_UNROLL
        for (std::size_t i = 0; i < MR; ++i) {
          const vec av = P::broadcast(ag[i / 3][(i % 3) * a_step + p]);
          CTNN_GEMM_UNROLL
          for (std::size_t v = 0; v < NV; ++v) acc[i][v] = P::fma(av, bv[v], acc[i][v]);
        }
        bp += b_step;
      }
    }

    // Write back C = alpha * acc + beta * C into rows of NR contiguous values, ldw apart.
    const vec va = P::broadcast(alpha);
    const vec vb = P::broadcast(beta);
    // mode 0: alpha * acc (C not read), 1: acc (alpha == 1, C not read), 2: fma(alpha, acc, C)
    // (beta == 1), 3: fma(alpha, acc, beta * C). fma(alpha, x, beta * c) is fma(alpha, x, c) for
    // beta == 1 and alpha * x for c == 0, so every mode rounds like the general one.
    const auto write = [&](T* cw, std::size_t ldw, int mode) CTNN_GEMM_LAMBDA_INLINE {
      CTNN_GEMM_UNROLL
      for (std::size_t i = 0; i < MR; ++i) {
        CTNN_GEMM_UNROLL
        for (std::size_t v = 0; v < NV; ++v) {
          T* cp = cw + i * ldw + v * W;
          const vec x = acc[i][v];
          P::store(cp, mode == 0   ? P::mul(va, x)
                       : mode == 1 ? x
                       : mode == 2 ? P::fma(va, x, P::load(cp))
                                   : P::fma(va, x, P::mul(vb, P::load(cp))));
        }
      }
    };
    if (direct) {
      // One loop per mode, so the mode test is outside the stores.
      if (beta == T(0))
        alpha == T(1) ? write(c, rs_c, 1) : write(c, rs_c, 0);
      else
        beta == T(1) ? write(c, rs_c, 2) : write(c, rs_c, 3);
    } else {
      // Edge or transposed tile: the same arithmetic on a copy (zeros where C is not read),
      // then the nr valid columns go back, in 16-byte pieces (a transposed C, rs_c == 1,
      // through register transposes; tiles narrower than 4, the scalar fallback's, element by
      // element).
      const bool transposed = NR >= 4 && rs_c == 1;
      alignas(64) T tile[MR][NR];
      CTNN_GEMM_UNROLL
      for (std::size_t i = 0; i < MR; ++i) {
        CTNN_GEMM_UNROLL
        for (std::size_t v = 0; v < NV; ++v) P::store(&tile[i][v * W], P::zero());
      }
      if (beta != T(0)) {
        if (transposed)
          transpose_copy(nr, MR, c, cs_c, &tile[0][0], NR);  // tile[i][j] = c[j * cs_c + i]
        else if (NR >= 4 && cs_c == 1)
          copy_block(MR, nr, c, rs_c, &tile[0][0], NR);
        else
          for (std::size_t i = 0; i < MR; ++i)
            for (std::size_t j = 0; j < nr; ++j) tile[i][j] = c[i * rs_c + j * cs_c];
      }
      write(&tile[0][0], NR, 3);
      if (transposed)
        transpose_copy(MR, nr, &tile[0][0], NR, c, cs_c);  // c[j * cs_c + i] = tile[i][j]
      else if (NR >= 4 && cs_c == 1)
        copy_block(MR, nr, &tile[0][0], NR, c, rs_c);
      else
        for (std::size_t i = 0; i < MR; ++i)
          for (std::size_t j = 0; j < nr; ++j) c[i * rs_c + j * cs_c] = tile[i][j];
    }
  }
}

}  // namespace ctnn::kernels::cpu::detail
