#pragma once
// Shared by the MPI test programs (tests/mpi.cmake): checks that every rank counts, one exit
// status for the whole job, synthetic data identical on every rank, and bitwise comparisons
// across ranks.
#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/mpi.hpp>

namespace mpi_test {

// Failed checks of this rank; finish() turns them into one exit status shared by all ranks.
struct Checks {
  int rank = 0;
  int failed = 0, passed = 0;
  void operator()(bool ok, const std::string& what) {
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "rank %d: FAILED: %s\n", rank, what.c_str());
    }
  }
};

// Every rank returns 1 if any rank failed a check, else 0.
inline int finish(ctnn::MpiDistributed& dist, const Checks& checks, const char* program) {
  double counts[2] = {double(checks.failed), double(checks.passed)};
  dist.sum(std::span<double>(counts));
  if (dist.rank() == 0)
    std::printf("%s on %d ranks: %.0f checks passed, %.0f failed\n", program, dist.size(), counts[1], counts[0]);
  return counts[0] == 0 ? 0 : 1;
}

// 1 x 8 x 8 images, 3 classes: the label is the best match among 3 fixed random templates, so a
// small CNN can learn it. Depends only on the seed: the same on every rank.
inline ctnn::data::Dataset templates(std::size_t n, std::uint64_t seed) {
  ctnn::Rng pattern_rng(12345), rng(seed);
  std::vector<float> patterns(3 * 64);
  for (auto& p : patterns) p = float(pattern_rng.uniform(-1, 1));
  ctnn::data::Dataset::Images images({n, 1, 8, 8});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    float* x = images.data() + i * 64;
    for (std::size_t k = 0; k < 64; ++k) x[k] = float(rng.uniform(-1, 1));
    double best = -1e300;
    for (int c = 0; c < 3; ++c) {
      double dot = 0;
      for (std::size_t k = 0; k < 64; ++k) dot += double(x[k]) * patterns[std::size_t(c) * 64 + k];
      if (dot > best) best = dot, labels[i] = c;
    }
  }
  return ctnn::data::Dataset(std::move(images), std::move(labels), 3);
}

// True on every rank when `values` has the same bits on every rank.
template <class T>
bool same_on_all_ranks(ctnn::MpiDistributed& dist, std::span<const T> values) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8);
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const MPI_Datatype type = sizeof(T) == 4 ? MPI_UINT32_T : MPI_UINT64_T;
  // Sizes first: different sizes would make the element-wise reductions below mismatch.
  unsigned long long size[2] = {values.size(), values.size()};
  dist.check(MPI_Allreduce(MPI_IN_PLACE, &size[0], 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, dist.comm()), "MPI_Allreduce");
  dist.check(MPI_Allreduce(MPI_IN_PLACE, &size[1], 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, dist.comm()), "MPI_Allreduce");
  if (size[0] != size[1]) return false;
  std::vector<Bits> lo(values.size()), hi;
  if (!values.empty()) std::memcpy(lo.data(), values.data(), values.size_bytes());
  hi = lo;
  dist.check(MPI_Allreduce(MPI_IN_PLACE, lo.data(), int(lo.size()), type, MPI_MIN, dist.comm()), "MPI_Allreduce");
  dist.check(MPI_Allreduce(MPI_IN_PLACE, hi.data(), int(hi.size()), type, MPI_MAX, dist.comm()), "MPI_Allreduce");
  int same = lo == hi ? 1 : 0;
  dist.check(MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, dist.comm()), "MPI_Allreduce");
  return same == 1;
}

// A history's numbers except the timings (which differ from run to run).
inline std::vector<double> history_numbers(const ctnn::History& h) {
  std::vector<double> out;
  for (const auto& e : h.epochs())
    for (double v : {double(e.epoch), e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy, e.learning_rate})
      out.push_back(v);
  out.push_back(h.diverged() ? 1 : 0);
  if (!h.empty()) out.push_back(double(h.best_epoch()));
  return out;
}

}  // namespace mpi_test
