#pragma once
// ctnn::Distributed: what data-parallel training needs from a communicator, with no MPI in
// sight. The Trainer splits every global batch into per-rank shards and sums the gradients and
// metrics through this interface; ctnn/train/mpi.hpp implements it over MPI_Allreduce.
#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>

namespace ctnn {

class Distributed {
 public:
  virtual ~Distributed() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // This rank's [first, first + count) slice of a global batch: contiguous, sizes differ by at
  // most one, every sample belongs to exactly one rank.
  virtual std::pair<std::size_t, std::size_t> shard(std::size_t batch) const {
    const std::size_t ranks = std::size_t(size()), r = std::size_t(rank());
    const std::size_t base = batch / ranks, extra = batch % ranks;
    const std::size_t first = r * base + std::min(r, extra);
    return {first, base + (r < extra ? 1 : 0)};
  }

  // Element-wise sum over all ranks, in place, identical on every rank afterwards.
  virtual void sum(std::span<float> values) = 0;
  virtual void sum(std::span<double> values) = 0;
};

}  // namespace ctnn
