#pragma once
// Batch parallelism for the CPU kernels (OpenMP when the build enables it, serial otherwise).
// Work is split into one contiguous range per thread, in thread order, so a kernel that reduces
// per-thread partial results in that order gives the same bits on every run with the same
// thread count. Why OpenMP: it is what the GEMM already uses (one thread pool, no
// oversubscription), it needs no code in a serial build, and GCC ships it.
#include <cstddef>

#include "ctnn/config.hpp"

#if CTNN_HAS_OPENMP
#include <omp.h>
#endif

namespace ctnn::kernels::cpu {

// Threads a kernel may start now: 1 inside an enclosing parallel region or without OpenMP.
inline std::size_t available_threads() noexcept {
#if CTNN_HAS_OPENMP
  if (omp_in_parallel()) return 1;
  const int n = omp_get_max_threads();
  return n > 0 ? static_cast<std::size_t>(n) : 1;
#else
  return 1;
#endif
}

// How many parts to split `items` items of `cost_per_item` (about one multiply-add each) into:
// one per available thread, but none below `min_cost` per part (a parallel region costs a few
// microseconds), and never more parts than items.
inline std::size_t parts_for(std::size_t items, std::size_t cost_per_item,
                             std::size_t min_cost = std::size_t(1) << 15) noexcept {
  const std::size_t threads = available_threads();
  if (threads <= 1 || items <= 1) return 1;
  const std::size_t by_cost = items * cost_per_item / (min_cost ? min_cost : 1);
  std::size_t parts = threads < items ? threads : items;
  if (by_cost < parts) parts = by_cost;
  return parts ? parts : 1;
}

// Calls f(part, begin, end) once per part for contiguous ranges covering [0, n); part p gets
// [n*p/P, n*(p+1)/P). P is `parts`, or fewer if the runtime grants fewer threads; f must not
// throw. Without OpenMP, or with parts <= 1, f(0, 0, n) runs on the calling thread.
// Returns the number of parts that ran (what a reduction of per-part results must cover).
template <class F>
std::size_t parallel_ranges(std::size_t n, std::size_t parts, F&& f) {
#if CTNN_HAS_OPENMP
  if (parts > 1) {
    std::size_t used = 1;
#pragma omp parallel num_threads(static_cast<int>(parts))
    {
      const auto count = static_cast<std::size_t>(omp_get_num_threads());
      const auto p = static_cast<std::size_t>(omp_get_thread_num());
      if (p == 0) used = count;
      f(p, n * p / count, n * (p + 1) / count);
    }
    return used;
  }
#endif
  (void)parts;
  f(std::size_t{0}, std::size_t{0}, n);
  return 1;
}

}  // namespace ctnn::kernels::cpu
