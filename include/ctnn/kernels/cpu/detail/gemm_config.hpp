#pragma once
// GEMM building blocks: the vector policy (xsimd batch of one architecture, or plain scalars)
// and the blocking parameters chosen for it.
//
// Instruction-set choice is made at compile time: the public cpu::gemm uses
// xsimd::default_arch, the best architecture the compiler flags enable (-march=native gives
// AVX-512 on this project's build machines; a generic x86-64 build gives SSE2, which every
// x86-64 CPU runs). Runtime dispatch (xsimd::dispatch over per-arch kernels) is not possible in a
// header-only library with xsimd 8.1: its AVX2/AVX-512 kernels exist only when __AVX2__ /
// __AVX512F__ are defined on the command line (`#pragma GCC target` does not define them), so
// each architecture needs its own translation unit with its own flags. The kernels are templates
// over the architecture (gemm_for_arch<Arch>), so an application that compiles such per-arch
// translation units can still dispatch at run time itself.
#include <xsimd/xsimd.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

// CTNN_GEMM_UNROLL before a loop with a small constant trip count unrolls it completely, so
// arrays indexed by its variable (the accumulator tile) become registers.
#if defined(__GNUC__)
#define CTNN_GEMM_INLINE inline __attribute__((always_inline))
#define CTNN_GEMM_LAMBDA_INLINE __attribute__((always_inline))
#if defined(__clang__)
#define CTNN_GEMM_UNROLL _Pragma("unroll")
#else
#define CTNN_GEMM_UNROLL _Pragma("GCC unroll 32")
#endif
#else
#define CTNN_GEMM_INLINE inline
#define CTNN_GEMM_LAMBDA_INLINE
#define CTNN_GEMM_UNROLL
#endif

namespace ctnn::kernels::cpu {

// Architecture tag for the portable scalar kernel (used where xsimd has no architecture, and
// by the tests to check the fallback).
struct scalar_arch {
  static constexpr const char* name() noexcept { return "scalar"; }
};

// The architecture cpu::gemm compiles for.
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE) || defined(CTNN_GEMM_FORCE_SCALAR)
using gemm_default_arch = scalar_arch;
#else
using gemm_default_arch = xsimd::default_arch;
#endif

namespace detail {

// simd_policy<T, Arch>: vec (register type), width (lanes), registers (architectural vector
// registers), and the handful of operations the micro-kernel and packing use.
template <class T, class Arch>
struct simd_policy {
  using vec = xsimd::batch<T, Arch>;
  static constexpr std::size_t width = vec::size;
  // AVX-512 has 32 vector registers; SSE/AVX/AVX2 (x86-64) have 16.
  static constexpr std::size_t registers = sizeof(T) * width >= 64 ? 32 : 16;
  static CTNN_GEMM_INLINE vec zero() noexcept { return vec(T(0)); }
  static CTNN_GEMM_INLINE vec broadcast(T x) noexcept { return vec(x); }
  static CTNN_GEMM_INLINE vec load(const T* p) noexcept { return vec::load_unaligned(p); }
  static CTNN_GEMM_INLINE void store(T* p, const vec& v) noexcept { v.store_unaligned(p); }
  static CTNN_GEMM_INLINE vec fma(const vec& a, const vec& b, const vec& c) noexcept {
    return xsimd::fma(a, b, c);
  }
  static CTNN_GEMM_INLINE vec mul(const vec& a, const vec& b) noexcept { return a * b; }
};

template <class T>
struct simd_policy<T, scalar_arch> {
  using vec = T;
  static constexpr std::size_t width = 1;
  static constexpr std::size_t registers = 16;
  static CTNN_GEMM_INLINE vec zero() noexcept { return T(0); }
  static CTNN_GEMM_INLINE vec broadcast(T x) noexcept { return x; }
  static CTNN_GEMM_INLINE vec load(const T* p) noexcept { return *p; }
  static CTNN_GEMM_INLINE void store(T* p, vec v) noexcept { *p = v; }
  static CTNN_GEMM_INLINE vec fma(vec a, vec b, vec c) noexcept { return a * b + c; }
  static CTNN_GEMM_INLINE vec mul(vec a, vec b) noexcept { return a * b; }
};

// gemm_blocking<T, Arch>: register block MR x NR (NR = NV vectors) and cache blocks.
//   MR x NV accumulators + NV loaded B vectors + 1 broadcast must fit the register file:
//   AVX-512 12 x 32 floats (24 of 32 zmm), AVX2 / SSE 6 x 2 vectors (12 of 16), scalar 4 x 4.
//   KC: depth of one rank-kc update; the packed A micro-panel (MR x KC) stays in L1. 288
//       floats measured best on the reference machine (docs/performance.md): it keeps conv2's
//       K = 288 in one block and cuts dense1's K = 1600 into six (384 and 256 each lose ~6% on
//       one of the two).
//   NC: width of the packed B block (KC x NC, 864 KiB), sized for L2 (2 MiB per core on that
//       machine); the 16-register variants, for older parts with 256 KiB-1 MiB, use 256 KiB.
template <class T, class Arch>
struct gemm_blocking {
  using policy = simd_policy<T, Arch>;
  static constexpr std::size_t width = policy::width;
  static constexpr bool wide = policy::registers >= 32;
  static constexpr std::size_t nv = width == 1 ? 4 : 2;
  static constexpr std::size_t mr = width == 1 ? 4 : (wide ? 12 : 6);
  static constexpr std::size_t nr = nv * width;
  static constexpr std::size_t kc = 288 * 4 / sizeof(T);
  static constexpr std::size_t nc = wide ? 768 : 256;
  static_assert(width == 1 || mr * nv + nv + 1 <= policy::registers,
                "GEMM register block does not fit the vector register file");
};

}  // namespace detail
}  // namespace ctnn::kernels::cpu
