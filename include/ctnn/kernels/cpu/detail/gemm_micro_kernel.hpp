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
      if (kc <= 32) {
        unroll<MR>([&](auto i) CTNN_GEMM_LAMBDA_INLINE {
          unroll<(NR * sizeof(T) + 63) / 64>([&](auto l) CTNN_GEMM_LAMBDA_INLINE {
            __builtin_prefetch(c + i * rs_c + l * (64 / sizeof(T)), 1);
          });
          __builtin_prefetch(c + i * rs_c + NR - 1, 1);
        });
      } else {
        unroll<MR>([&](auto i) CTNN_GEMM_LAMBDA_INLINE { __builtin_prefetch(c + i * rs_c, 1); });
      }
    }

    // (MR, NR) accumulators; unroll<> keeps every index a constant so they live in registers.
    vec acc[MR][NV];
    unroll<MR>([&](auto i) CTNN_GEMM_LAMBDA_INLINE {
      unroll<NV>([&](auto v) CTNN_GEMM_LAMBDA_INLINE { acc[i][v] = P::zero(); });
    });

    const T* bp = b;
    if constexpr (a_rows_contiguous) {
      const T* ap = a;
      for (std::size_t p = 0; p < kc; ++p) {
        vec bv[NV];
        unroll<NV>([&](auto v) CTNN_GEMM_LAMBDA_INLINE { bv[v] = P::load(bp + v * W); });
        unroll<MR>([&](auto i) CTNN_GEMM_LAMBDA_INLINE {
          const vec av = P::broadcast(ap[i]);
          unroll<NV>([&](auto v) CTNN_GEMM_LAMBDA_INLINE {
            acc[i][v] = P::fma(av, bv[v], acc[i][v]);
          });
        });
        ap += a_step;
        bp += b_step;
      }
    } else {
      // Rows in groups of three: one pointer per group, rows at +0, +a_step, +2 * a_step
      // (scaled index addressing), so a 12-row tile needs 4 pointers and one stride register.
      constexpr std::size_t G = (MR + 2) / 3;
      const T* ag[G];
      unroll<G>([&](auto g) CTNN_GEMM_LAMBDA_INLINE { ag[g] = a + 3 * g * a_step; });
      for (std::size_t p = 0; p < kc; ++p) {
        vec bv[NV];
        unroll<NV>([&](auto v) CTNN_GEMM_LAMBDA_INLINE { bv[v] = P::load(bp + v * W); });
        unroll<MR>([&](auto i) CTNN_GEMM_LAMBDA_INLINE {
          const vec av = P::broadcast(ag[i / 3][(i % 3) * a_step + p]);
          unroll<NV>([&](auto v) CTNN_GEMM_LAMBDA_INLINE {
            acc[i][v] = P::fma(av, bv[v], acc[i][v]);
          });
        });
        bp += b_step;
      }
    }

    // Write back C = alpha * acc + beta * C into rows of NR contiguous values, ldw apart.
    const auto write = [&](T* cw, std::size_t ldw, auto f) CTNN_GEMM_LAMBDA_INLINE {
      unroll<MR>([&](auto i) CTNN_GEMM_LAMBDA_INLINE {
        unroll<NV>([&](auto v) CTNN_GEMM_LAMBDA_INLINE {
          T* cp = cw + i * ldw + v * W;
          P::store(cp, f(acc[i][v], cp));
        });
      });
    };
    const vec va = P::broadcast(alpha);
    const vec vb = P::broadcast(beta);
    // fma(alpha, x, beta * c) is fma(alpha, x, c) when beta == 1, so the special cases below
    // round the same way as the general one.
    const auto general = [&](const vec& x, const T* cp) CTNN_GEMM_LAMBDA_INLINE {
      return P::fma(va, x, P::mul(vb, P::load(cp)));
    };
    const auto scaled = [&](T* cw, std::size_t ldw) CTNN_GEMM_LAMBDA_INLINE {  // beta == 0
      if (alpha == T(1))
        write(cw, ldw, [](const vec& x, const T*) CTNN_GEMM_LAMBDA_INLINE { return x; });
      else
        write(cw, ldw,
              [&](const vec& x, const T*) CTNN_GEMM_LAMBDA_INLINE { return P::mul(va, x); });
    };
    if (direct) {
      if (beta == T(0))  // C is not read
        scaled(c, rs_c);
      else if (beta == T(1))
        write(c, rs_c, [&](const vec& x, const T* cp) CTNN_GEMM_LAMBDA_INLINE {
          return P::fma(va, x, P::load(cp));
        });
      else
        write(c, rs_c, general);
    } else {
      // Edge or transposed tile: the same arithmetic on a copy, then the nr valid columns go
      // back (a transposed C, rs_c == 1, through register transposes; tiles narrower than 4,
      // the scalar fallback's, element by element).
      const bool transposed = NR >= 4 && rs_c == 1;
      alignas(64) T tile[MR][NR];
      if (beta == T(0)) {
        scaled(&tile[0][0], NR);
      } else {
        unroll<MR>([&](auto i) CTNN_GEMM_LAMBDA_INLINE {
          unroll<NV>([&](auto v) CTNN_GEMM_LAMBDA_INLINE {
            P::store(&tile[i][v * W], P::zero());
          });
        });
        if (transposed)
          transpose_copy(nr, MR, c, cs_c, &tile[0][0], NR);  // tile[i][j] = c[j * cs_c + i]
        else
          for (std::size_t i = 0; i < MR; ++i)
            for (std::size_t j = 0; j < nr; ++j) tile[i][j] = c[i * rs_c + j * cs_c];
        write(&tile[0][0], NR, general);
      }
      if (transposed)
        transpose_copy(MR, nr, &tile[0][0], NR, c, cs_c);  // c[j * cs_c + i] = tile[i][j]
      else
        for (std::size_t i = 0; i < MR; ++i)
          for (std::size_t j = 0; j < nr; ++j) c[i * rs_c + j * cs_c] = tile[i][j];
    }
  }
}

}  // namespace ctnn::kernels::cpu::detail
