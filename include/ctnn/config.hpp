#pragma once
// ctnn: compile-time neural networks. Version and the few macros the whole library shares.

#define CTNN_VERSION_MAJOR 0
#define CTNN_VERSION_MINOR 1
#define CTNN_VERSION_PATCH 0

// Host/device portability lives here and nowhere else.
#if defined(__CUDACC__)
#define CTNN_HOST_DEVICE __host__ __device__
#else
#define CTNN_HOST_DEVICE
#endif

// CTNN_COLD marks code that runs once or only on errors (reports, plots, file loading, error
// messages). The compiler optimizes it for size and keeps it out of hot paths; as every
// translation unit compiles it again (header-only), this also saves compile time. Left out
// under nvcc, where it is untested.
#if defined(__GNUC__) && !defined(__CUDACC__)
#define CTNN_COLD [[gnu::cold]]
#else
#define CTNN_COLD
#endif

#if defined(_OPENMP)
#define CTNN_HAS_OPENMP 1
#else
#define CTNN_HAS_OPENMP 0
#endif

#include <cstddef>
#include <cstdint>

namespace ctnn {
using std::size_t;
}  // namespace ctnn
