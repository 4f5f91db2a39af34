#pragma once
// Vectorized optimizer updates: the reference formulas (kernels/reference/optimizer.hpp)
// applied to whole xsimd vectors, the parameter array split over threads when it is large.
// Every element sees the same operations as in the reference, so the results agree with it.
#include <cstddef>

#include "ctnn/kernels/cpu/parallel.hpp"
#include "ctnn/kernels/cpu/simd.hpp"
#include "ctnn/kernels/reference/optimizer.hpp"

namespace ctnn::kernels::cpu {
namespace detail {

// For every i < n: element(w[i], state[0][i], ..., g[i]) on vectors, then on the tail.
template <class T, std::size_t S, class Element>
void update_elements(T* w, const T* g, T* const (&state)[S], std::size_t n, Element element) {
  parallel_ranges(n, parts_for(n, 8, std::size_t(1) << 17), [&](std::size_t, std::size_t begin,
                                                                 std::size_t end) {
    std::size_t i = begin;
    if constexpr (has_simd<T>) {
      using V = simd<T>;
      const std::size_t whole = end - (end - begin) % V::size;
      for (; i < whole; i += V::size) {
        V wv = V::load_unaligned(w + i);
        const V gv = V::load_unaligned(g + i);
        V sv[S];
        for (std::size_t k = 0; k < S; ++k) sv[k] = V::load_unaligned(state[k] + i);
        element(wv, sv, gv);
        wv.store_unaligned(w + i);
        for (std::size_t k = 0; k < S; ++k) sv[k].store_unaligned(state[k] + i);
      }
    }
    for (; i < end; ++i) {
      T sv[S];
      for (std::size_t k = 0; k < S; ++k) sv[k] = state[k][i];
      element(w[i], sv, g[i]);
      for (std::size_t k = 0; k < S; ++k) state[k][i] = sv[k];
    }
  });
}

}  // namespace detail

template <class T>
void adam_update(T* w, const T* g, T* m, T* v, std::size_t n,
                 const reference::AdamCoefficients<T>& c) {
  T* const state[2] = {m, v};
  detail::update_elements(w, g, state, n, [&c](auto& wv, auto* sv, const auto& gv) {
    reference::adam_element(wv, sv[0], sv[1], gv, c);
  });
}

template <class T>
void rmsprop_update(T* w, const T* g, T* s, T* b, std::size_t n,
                    const reference::RmsPropCoefficients<T>& c) {
  if (b) {
    T* const state[2] = {s, b};
    detail::update_elements(w, g, state, n, [&c](auto& wv, auto* sv, const auto& gv) {
      reference::rmsprop_momentum_element(wv, sv[0], sv[1], gv, c);
    });
  } else {
    T* const state[1] = {s};
    detail::update_elements(w, g, state, n, [&c](auto& wv, auto* sv, const auto& gv) {
      reference::rmsprop_element(wv, sv[0], gv, c);
    });
  }
}

}  // namespace ctnn::kernels::cpu
