#pragma once
// Lane shuffles the CPU kernels share: splitting a row into its even and odd elements and
// merging them back, with xsimd swizzles (any vector width). Only named where has_simd<T>.
#include <cstdint>
#include <type_traits>

#include "ctnn/kernels/cpu/simd.hpp"

namespace ctnn::kernels::cpu::detail {

// Swizzle patterns (lane i of n).
struct evens_then_odds {  // [0, 2, 4, ..., 1, 3, 5, ...]
  static constexpr unsigned get(unsigned i, unsigned n) { return i < n / 2 ? 2 * i : 2 * (i - n / 2) + 1; }
};
struct odds_then_evens {  // [1, 3, 5, ..., 0, 2, 4, ...]
  static constexpr unsigned get(unsigned i, unsigned n) { return i < n / 2 ? 2 * i + 1 : 2 * (i - n / 2); }
};
struct swap_halves {
  static constexpr unsigned get(unsigned i, unsigned n) { return (i + n / 2) % n; }
};
struct iota {
  static constexpr unsigned get(unsigned i, unsigned) { return i; }
};
struct low_half {
  static constexpr bool get(unsigned i, unsigned n) { return i < n / 2; }
};
struct even_lanes {
  static constexpr bool get(unsigned i, unsigned) { return i % 2 == 0; }
};
struct each_twice_low {  // [0, 0, 1, 1, ..., n/2 - 1, n/2 - 1]
  static constexpr unsigned get(unsigned i, unsigned) { return i / 2; }
};
struct each_twice_high {  // [n/2, n/2, ..., n - 1, n - 1]
  static constexpr unsigned get(unsigned i, unsigned n) { return n / 2 + i / 2; }
};

template <class V>
using shuffle_index = xsimd::batch<
    std::conditional_t<sizeof(typename V::value_type) == 4, std::uint32_t, std::uint64_t>,
    typename V::arch_type>;

// u, v: 2L consecutive values => even: those at even positions, odd: those at odd positions.
template <class V>
inline void deinterleave(const V& u, const V& v, V& even, V& odd) {
  using Index = shuffle_index<V>;
  constexpr auto low = xsimd::make_batch_bool_constant<V, low_half>();
  const V u2 = xsimd::swizzle(u, xsimd::make_batch_constant<Index, evens_then_odds>());
  const V v2 = xsimd::swizzle(v, xsimd::make_batch_constant<Index, odds_then_evens>());
  even = xsimd::select(low, u2, v2);
  odd = xsimd::swizzle(xsimd::select(low, v2, u2), xsimd::make_batch_constant<Index, swap_halves>());
}

// The inverse: even, odd => u, v, the 2L values e0 o0 e1 o1 ... in order.
template <class V>
inline void interleave(const V& even, const V& odd, V& u, V& v) {
  using Index = shuffle_index<V>;
  constexpr auto pick_even = xsimd::make_batch_bool_constant<V, even_lanes>();
  constexpr auto low = xsimd::make_batch_constant<Index, each_twice_low>();
  constexpr auto high = xsimd::make_batch_constant<Index, each_twice_high>();
  u = xsimd::select(pick_even, xsimd::swizzle(even, low), xsimd::swizzle(odd, low));
  v = xsimd::select(pick_even, xsimd::swizzle(even, high), xsimd::swizzle(odd, high));
}

}  // namespace ctnn::kernels::cpu::detail
