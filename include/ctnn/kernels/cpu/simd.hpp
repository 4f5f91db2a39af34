#pragma once
// The vector type the CPU kernels other than GEMM use: xsimd's batch for the architecture the
// GEMM compiles for (see detail/gemm_config.hpp), or none, in which case they run scalar loops.
#include <cstddef>
#include <type_traits>

#include "ctnn/kernels/cpu/detail/gemm_config.hpp"

namespace ctnn::kernels::cpu {

template <class T>
inline constexpr bool has_simd = !std::is_same_v<gemm_default_arch, scalar_arch> &&
                                 (std::is_same_v<T, float> || std::is_same_v<T, double>);

// Only named inside `if constexpr (has_simd<T>)`.
template <class T>
using simd = xsimd::batch<T, gemm_default_arch>;

}  // namespace ctnn::kernels::cpu
