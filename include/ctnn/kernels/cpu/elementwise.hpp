#pragma once
// Vectorized elementwise kernels (xsimd), split over threads for large arrays. Same contracts as
// kernels/reference/elementwise.hpp; every result is computed by the same per-element formula,
// so they agree with the reference exactly (sum() reassociates: it agrees to rounding).
#include <cstddef>

#include "ctnn/kernels/cpu/parallel.hpp"
#include "ctnn/kernels/cpu/simd.hpp"

namespace ctnn::kernels::cpu {
namespace detail {

// Below this many elements per thread a parallel region costs more than it saves.
inline constexpr std::size_t elementwise_grain = std::size_t(1) << 16;

// out[i] = op(a[i], b[i]) with op callable on scalars and on simd<T>.
template <class T, class Op>
void map2(const T* a, const T* b, T* out, std::size_t n, Op op) {
  parallel_ranges(n, parts_for(n, 1, elementwise_grain), [&](std::size_t, std::size_t begin,
                                                              std::size_t end) {
    std::size_t i = begin;
    if constexpr (has_simd<T>) {
      using V = simd<T>;
      const std::size_t whole = end - (end - begin) % V::size;  // (this form keeps GCC from
      for (; i < whole; i += V::size)                             //  warning on the tail loop)
        op(V::load_unaligned(a + i), V::load_unaligned(b + i)).store_unaligned(out + i);
    }
    for (; i < end; ++i) out[i] = op(a[i], b[i]);
  });
}

template <class T, class Op>
void map1(const T* a, T* out, std::size_t n, Op op) {
  parallel_ranges(n, parts_for(n, 1, elementwise_grain), [&](std::size_t, std::size_t begin,
                                                              std::size_t end) {
    std::size_t i = begin;
    if constexpr (has_simd<T>) {
      using V = simd<T>;
      const std::size_t whole = end - (end - begin) % V::size;
      for (; i < whole; i += V::size) op(V::load_unaligned(a + i)).store_unaligned(out + i);
    }
    for (; i < end; ++i) out[i] = op(a[i]);
  });
}

// The same selection for scalars and vectors (xsimd::select on vectors).
template <class M, class A, class B>
auto choose(const M& mask, const A& a, const B& b) {
  if constexpr (std::is_same_v<M, bool>)
    return mask ? a : b;
  else
    return xsimd::select(mask, a, b);
}

}  // namespace detail

// y = max(x, 0), NaN kept (as PyTorch's relu).
template <class T>
void relu_forward(const T* x, T* y, std::size_t n) {
  detail::map1(x, y, n, [](auto v) { return detail::choose(v < decltype(v)(0), decltype(v)(0), v); });
}
template <class T>
void relu_backward(const T* x, const T* dy, T* dx, std::size_t n) {
  detail::map2(x, dy, dx, n, [](auto v, auto g) {
    return detail::choose(v > decltype(v)(0), g, decltype(g)(0));
  });
}

template <class T>
void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) {
  detail::map1(x, y, n, [slope](auto v) {
    using V = decltype(v);
    return detail::choose(v > V(0), v, V(slope) * v);
  });
}
template <class T>
void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope) {
  detail::map2(x, dy, dx, n, [slope](auto v, auto g) {
    using V = decltype(g);
    return detail::choose(v > decltype(v)(0), g, V(slope) * g);
  });
}

// y = x * mask
template <class T>
void multiply(const T* x, const T* mask, T* y, std::size_t n) {
  detail::map2(x, mask, y, n, [](auto a, auto b) { return a * b; });
}

// y += x
template <class T>
void add_to(const T* x, T* y, std::size_t n) {
  detail::map2(x, static_cast<const T*>(y), y, n, [](auto a, auto b) { return b + a; });
}

// y = max(y, 0) in place, on the calling thread (a kernel's epilogue inside its own threads).
template <class T>
void relu_in_place(T* y, std::size_t n) {
  std::size_t i = 0;
  if constexpr (has_simd<T>) {
    using V = simd<T>;
    for (const std::size_t whole = n - n % V::size; i < whole; i += V::size) {
      const V v = V::load_unaligned(y + i);
      xsimd::select(v < V(T(0)), V(T(0)), v).store_unaligned(y + i);
    }
  }
  for (; i < n; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
}

// Sum of n values, on the calling thread (four vector accumulators, then across lanes).
template <class T>
T sum(const T* x, std::size_t n) {
  std::size_t i = 0;
  T total = T(0);
  if constexpr (has_simd<T>) {
    using V = simd<T>;
    const std::size_t whole = n - n % (4 * V::size);
    if (whole) {
      V s0(T(0)), s1(T(0)), s2(T(0)), s3(T(0));
      for (; i < whole; i += 4 * V::size) {
        s0 += V::load_unaligned(x + i);
        s1 += V::load_unaligned(x + i + V::size);
        s2 += V::load_unaligned(x + i + 2 * V::size);
        s3 += V::load_unaligned(x + i + 3 * V::size);
      }
      total = xsimd::hadd((s0 + s1) + (s2 + s3));
    }
  }
  for (; i < n; ++i) total += x[i];
  return total;
}

// y[i] = value for i < n, on the calling thread.
template <class T>
void fill(T* y, std::size_t n, T value) {
  for (std::size_t i = 0; i < n; ++i) y[i] = value;
}

}  // namespace ctnn::kernels::cpu
