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

#if defined(__GNUC__)
#define CTNN_GEMM_INLINE inline __attribute__((always_inline))
#define CTNN_GEMM_LAMBDA_INLINE __attribute__((always_inline))
#else
#define CTNN_GEMM_INLINE inline
#define CTNN_GEMM_LAMBDA_INLINE
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
  static constexpr bool has_fma = sizeof(T) * width >= 64 ||
                                  std::is_base_of_v<xsimd::fma3<xsimd::avx2>, Arch> ||
                                  std::is_base_of_v<xsimd::fma3<xsimd::avx>, Arch> ||
                                  std::is_base_of_v<xsimd::fma3<xsimd::sse4_2>, Arch>;
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
  static constexpr bool has_fma = false;
  static CTNN_GEMM_INLINE vec zero() noexcept { return T(0); }
  static CTNN_GEMM_INLINE vec broadcast(T x) noexcept { return x; }
  static CTNN_GEMM_INLINE vec load(const T* p) noexcept { return *p; }
  static CTNN_GEMM_INLINE void store(T* p, vec v) noexcept { *p = v; }
  static CTNN_GEMM_INLINE vec fma(vec a, vec b, vec c) noexcept { return a * b + c; }
  static CTNN_GEMM_INLINE vec mul(vec a, vec b) noexcept { return a * b; }
};

// gemm_blocking<T, Arch>: register block MR x NR (NR = NV vectors) and cache blocks.
//   MR x NV accumulators + NV loaded B vectors + 1 broadcast must fit the register file.
//   KC: depth of one rank-kc update; the packed A micro-panel (MR x KC) stays in L1.
//   NC: width of the packed B block (KC x NC), sized for L2 (2 MiB on Sapphire Rapids-class
//       Xeons, 1 MiB on Skylake-SP, 256 KiB on older desktop parts: the 16-register variants
//       use a smaller block).
template <class T, class Arch>
struct gemm_blocking {
  using policy = simd_policy<T, Arch>;
  static constexpr std::size_t width = policy::width;
  static constexpr bool wide = policy::registers >= 32;
  static constexpr std::size_t nv = width == 1 ? 4 : 2;
  static constexpr std::size_t mr = width == 1 ? 4 : (wide ? 12 : 6);
  static constexpr std::size_t nr = nv * width;
  static constexpr std::size_t kc = (wide ? 384 : 256) * 4 / sizeof(T);
  static constexpr std::size_t nc = wide ? 768 : 256;
  static_assert(width == 1 || mr * nv + nv + 1 <= policy::registers,
                "GEMM register block does not fit the vector register file");
};

// unroll<N>(f): f(std::integral_constant<size_t, 0>{}), ..., f(integral_constant<N - 1>) with
// no loop left for the compiler to keep (accumulator arrays must become registers).
template <class F, std::size_t... I>
CTNN_GEMM_INLINE void unroll_impl(F&& f, std::index_sequence<I...>) {
  (f(std::integral_constant<std::size_t, I>{}), ...);
}
template <std::size_t N, class F>
CTNN_GEMM_INLINE void unroll(F&& f) {
  unroll_impl(f, std::make_index_sequence<N>{});
}

}  // namespace detail
}  // namespace ctnn::kernels::cpu
