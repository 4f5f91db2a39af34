// MpiDistributed on its own: sums are exact and identical on every rank, with and without
// buckets; shards cover every sample once; statistics count; a failed MPI call becomes an
// MpiError naming the call, the rank and MPI's error string.
#include <cmath>
#include <string>
#include <vector>

#include "mpi_test.hpp"

using namespace ctnn;

namespace {

// Integer-valued sums are exact in float, so the expected result is known bit for bit.
template <class T>
void check_sum(MpiDistributed& dist, mpi_test::Checks& check, std::size_t n, const char* what) {
  const int r = dist.rank(), p = dist.size();
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = T(double(i % 7) * double(r + 1));
  dist.sum(std::span<T>(v));
  bool exact = true;
  for (std::size_t i = 0; i < n; ++i) exact = exact && v[i] == T(double(i % 7) * double(p * (p + 1) / 2));
  check(exact, std::string(what) + ": sum of " + std::to_string(n) + " values is exact");
  check(mpi_test::same_on_all_ranks<T>(dist, v), std::string(what) + ": the same on every rank");
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  return mpi.run([&] {
    MpiDistributed dist;
    mpi_test::Checks check{dist.rank()};
    check(dist.rank() == mpi.rank() && dist.size() == mpi.size(), "rank and size match MPI_COMM_WORLD");

    for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(1000), std::size_t(300000)}) {
      check_sum<float>(dist, check, n, "float");
      check_sum<double>(dist, check, n, "double");
    }
    // Buckets of 12 bytes (3 floats, 1 double) and of 1 byte (rounded up to 1 element).
    for (std::size_t bucket : {std::size_t(12), std::size_t(1), std::size_t(4096)}) {
      MpiDistributed bucketed(MPI_COMM_WORLD, {.bucket_bytes = bucket});
      check_sum<float>(bucketed, check, 1001, "bucketed float");
      check_sum<double>(bucketed, check, 1001, "bucketed double");
    }

    // Shards: contiguous, sizes differ by at most one, every sample on exactly one rank.
    bool shards_ok = true;
    for (std::size_t batch = 0; batch <= 130; ++batch) {
      std::vector<double> cover(batch + 1, 0.0);  // samples, then the total count
      const auto [first, count] = dist.shard(batch);
      for (std::size_t i = first; i < first + count; ++i) cover[i] += 1;
      cover[batch] = double(count);
      dist.sum(std::span<double>(cover));
      for (std::size_t i = 0; i < batch; ++i) shards_ok = shards_ok && cover[i] == 1;
      shards_ok = shards_ok && cover[batch] == double(batch);
      const std::size_t base = batch / std::size_t(dist.size());
      shards_ok = shards_ok && (count == base || count == base + 1);
    }
    check(shards_ok, "shards cover every sample of batches 0..130 exactly once, sizes within one");

    dist.reset_stats();
    std::vector<float> g(100);
    dist.sum(std::span<float>(g));
    dist.sum(std::span<float>(g));
    check(dist.stats().calls == 2 && dist.stats().bytes == 800, "stats count calls and bytes");
    check(dist.size() == 1 || dist.stats().seconds > 0, "stats time the allreduce");

    // MPI_ERRORS_RETURN: an invalid count comes back as an error code, which becomes an MpiError.
    MpiDistributed throwing(MPI_COMM_WORLD, {.on_error = MpiOnError::throw_error});
    float x = 0;
    std::string message;
    try {
      throwing.check(MPI_Allreduce(MPI_IN_PLACE, &x, -1, MPI_FLOAT, MPI_SUM, throwing.comm()), "MPI_Allreduce");
    } catch (const MpiError& e) {
      message = e.what();
      check(e.code() != MPI_SUCCESS, "MpiError keeps the MPI error code");
    }
    const std::string where = "MPI_Allreduce failed on rank " + std::to_string(dist.rank()) + " of " +
                              std::to_string(dist.size());
    check(message.find(where) != std::string::npos, "MpiError names the call and rank: '" + message + "'");
    check(message.find("count") != std::string::npos, "MpiError carries MPI's error string: '" + message + "'");

    // Distributed through the base interface (what the Trainer sees).
    Distributed& base = dist;
    double metrics[2] = {1.0, double(base.rank())};
    base.sum(std::span<double>(metrics));
    check(metrics[0] == base.size() && metrics[1] == base.size() * (base.size() - 1) / 2.0,
          "sum through the Distributed interface");
    return mpi_test::finish(dist, check, "mpi_basics");
  });
}
