#pragma once
// sweep_learning_rates_distributed: sweep_learning_rates (train/sweep.hpp) with the rates spread
// over the ranks of an MPI job (docs/distributed.md).
//
//   ctnn::MpiDistributed dist;
//   auto result = ctnn::sweep_learning_rates_distributed<Train>(
//       [] { return Model{42}; }, train, val, {1e-2, 1e-3, 1e-4, 1e-5}, dist, cfg);
//   if (dist.rank() == 0) std::cout << result.report();
//
// Rate i is trained by rank i % size, alone (config.distributed is ignored: no data
// parallelism inside a rate), from make_model() as on one process. The histories are gathered on
// rank 0 (History::to_bytes), broadcast back, and the best is picked by choose_best, so every
// rank returns the SweepResult that sweep_learning_rates returns on one process (bit for bit,
// apart from the timings, given the same kernels and thread counts).
//
// Only rank 0 prints progress. Checkpoints are refused (ConfigError): ranks would write the same
// path for different rates. A rate whose training throws makes every rank throw the same Error
// after the gather, naming the rate and rank, so no rank is left waiting.
//
// Requires: every rank calls it with the same arguments (rates, config, data).
#include <climits>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "ctnn/error.hpp"
#include "ctnn/io/binary.hpp"
#include "ctnn/train/history.hpp"
#include "ctnn/train/mpi.hpp"
#include "ctnn/train/sweep.hpp"

namespace ctnn {

namespace detail::mpi_sweep {

// Gathers every rank's bytes on rank 0 (in rank order) and broadcasts the concatenation back.
inline std::vector<std::byte> allgather_bytes(MpiDistributed& comm, const std::vector<std::byte>& mine) {
  if (mine.size() > std::size_t(INT_MAX))
    throw ConfigError("sweep_learning_rates_distributed: " + std::to_string(mine.size()) +
                      " bytes of results on one rank; MPI counts stop at INT_MAX");
  const int ranks = comm.size();
  const int count = int(mine.size());
  std::vector<int> counts(comm.rank() == 0 ? std::size_t(ranks) : 0), offsets(counts.size());
  comm.check(MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm.comm()), "MPI_Gather");
  std::uint64_t total = 0;
  if (comm.rank() == 0) {
    for (int r = 0; r < ranks; ++r) {
      offsets[std::size_t(r)] = int(total);
      total += std::uint64_t(counts[std::size_t(r)]);
    }
    if (total > std::uint64_t(INT_MAX))
      comm.check(MPI_ERR_COUNT, "MPI_Gatherv (more than INT_MAX bytes of results)");
  }
  std::vector<std::byte> all(comm.rank() == 0 ? std::size_t(total) : 0);
  comm.check(MPI_Gatherv(mine.data(), count, MPI_BYTE, all.data(), counts.data(), offsets.data(),
                         MPI_BYTE, 0, comm.comm()),
             "MPI_Gatherv");
  comm.check(MPI_Bcast(&total, 1, MPI_UINT64_T, 0, comm.comm()), "MPI_Bcast");
  all.resize(std::size_t(total));
  comm.check(MPI_Bcast(all.data(), int(total), MPI_BYTE, 0, comm.comm()), "MPI_Bcast");
  return all;
}

}  // namespace detail::mpi_sweep

// Train is a Trainer<...>; make_model() returns a freshly initialised model (same seed each
// call). Returns the same SweepResult on every rank.
template <class Train, class MakeModel>
SweepResult sweep_learning_rates_distributed(MakeModel&& make_model, const data::Dataset& train,
                                             const data::Dataset& validation, std::vector<double> rates,
                                             MpiDistributed& comm, TrainConfig config = {},
                                             typename Train::PolicyOptions policies = {},
                                             Monitor monitor = Monitor::val_loss) {
  // Every rank sees the same arguments, so these throw on every rank alike.
  if (rates.empty())
    throw ConfigError("sweep_learning_rates_distributed: the list of learning rates is empty");
  if (config.checkpoint_every > 0)
    throw ConfigError("sweep_learning_rates_distributed: checkpoints are not supported (each rank "
                      "trains other rates into the same checkpoint_path); set checkpoint_every = 0");
  config.distributed = nullptr;  // each rate is trained by one rank alone
  const int rank = comm.rank(), ranks = comm.size();
  if (rank != 0) config.verbose = 0;  // only rank 0 prints

  // This rank's rates: (index, ok, history bytes or error message) each.
  io::BinaryWriter mine;
  for (std::size_t i = std::size_t(rank); i < rates.size(); i += std::size_t(ranks)) {
    config.learning_rate = rates[i];
    if (config.verbose > 0 && config.out)
      *config.out << "learning rate " << detail::rate_name(rates[i]) << " (rank 0 of " << ranks << ")\n";
    mine.u64(i);
    try {
      auto model = make_model();
      const History history = Train{config, policies}.fit(model, train, validation);
      const std::vector<std::byte> bytes = history.to_bytes();
      mine.u8(1);
      mine.u64(bytes.size());
      mine.raw(bytes);
    } catch (const std::exception& e) {
      // Reported after the gather, on every rank: throwing here would leave the others waiting.
      mine.u8(0);
      mine.string("rank " + std::to_string(rank) + ": " + e.what());
    } catch (...) {
      mine.u8(0);
      mine.string("rank " + std::to_string(rank) + ": an exception not derived from std::exception");
    }
  }

  const std::vector<std::byte> all = detail::mpi_sweep::allgather_bytes(comm, mine.bytes());
  SweepResult result;
  result.learning_rates = rates;
  result.histories.resize(rates.size());
  std::vector<bool> seen(rates.size(), false);
  io::BinaryReader r(all, "<distributed sweep results>");
  std::string errors;
  while (r.remaining() > 0) {
    const std::uint64_t i = r.u64("rate index");
    if (i >= rates.size() || seen[i]) r.fail("a new rate index below " + std::to_string(rates.size()), std::to_string(i));
    seen[i] = true;
    if (r.u8("status") == 1) {
      const std::uint64_t n = r.u64("history length");
      result.histories[i] = History::from_bytes(r.take(n, "history"), "<history of rate " + std::to_string(i) + ">");
    } else {
      errors += "\n  learning rate " + detail::rate_name(rates[i]) + " (" + r.string("error") + ")";
    }
  }
  if (!errors.empty()) throw Error("sweep_learning_rates_distributed: training failed for" + errors);
  for (std::size_t i = 0; i < rates.size(); ++i)
    if (!seen[i]) r.fail("results for every learning rate", "none for rate " + std::to_string(i));
  choose_best(result, monitor);
  return result;
}

}  // namespace ctnn
