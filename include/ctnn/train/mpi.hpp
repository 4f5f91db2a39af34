#pragma once
// ctnn::MpiDistributed: data-parallel training over MPI (docs/distributed.md).
//
//   int main(int argc, char** argv) {
//     ctnn::MpiSession mpi(argc, argv);         // MPI_Init_thread ... MPI_Finalize
//     return mpi.run([&] {                      // an exception on any rank ends the whole job
//       ctnn::MpiDistributed dist;              // over MPI_COMM_WORLD
//       Model net{42};                          // same seed on every rank: same start weights
//       Train train{{.batch_size = 64, .distributed = &dist}};   // 64 = the *global* batch
//       History h = train.fit(net, data, val);  // every rank returns the same weights/history
//       if (dist.rank() == 0) h.save_csv("run.csv");             // files: rank 0 only
//       return 0;
//     });
//   }
//
// MpiDistributed implements ctnn::Distributed (train/distributed.hpp) with in-place
// MPI_Allreduce(MPI_SUM) on a private duplicate of the communicator, so ctnn's traffic never
// matches the caller's own messages. Large arrays may be reduced in buckets (Options::
// bucket_bytes); by default one call per array, split only where a count would overflow int.
//
// Errors: the duplicate has MPI_ERRORS_RETURN, and every call is checked. A failing call becomes
// an MpiError naming the call, the rank and MPI's error string; by default (MpiOnError::abort)
// that message is printed and MPI_Abort ends every rank -- the others would otherwise wait
// forever in their next collective. A rank that dies (signal, exit without MPI_Finalize) is
// noticed by mpirun, which ends the job with a non-zero status (Open MPI's default).
//
// Requires: MPI is initialised (an MpiSession, or MPI_Init_thread) before construction and
//           finalised after destruction; every rank of the communicator constructs its
//           MpiDistributed together (MPI_Comm_dup is collective) and calls sum() with the same
//           sizes in the same order.
// Ensures:  after sum(), the values are identical on every rank.
//
// Needs <mpi.h>: link the CMake target ctnn::mpi (CTNN_WITH_MPI=ON). No other ctnn header
// includes this one, so a build without MPI never sees it.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "ctnn/error.hpp"
#include "ctnn/train/distributed.hpp"

namespace ctnn {

// A failed MPI call: names the call, the rank and MPI's own description of the error.
struct MpiError : Error {
  MpiError(const std::string& what, int code) : Error(what), code_(code) {}
  int code() const noexcept { return code_; }  // the MPI error code

 private:
  int code_;
};

// What MpiDistributed does with a failed MPI call.
enum class MpiOnError {
  abort,        // print the MpiError's message, then MPI_Abort: the whole job ends (default)
  throw_error   // throw the MpiError; the caller must end the job itself, or the others hang
};

namespace detail::mpi {

// MPI's description of an error code ("MPI_ERR_COUNT: invalid count argument").
inline std::string error_string(int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "unknown MPI error code " + std::to_string(code);
  return std::string(text, std::size_t(std::max(length, 0)));
}

inline bool initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}
inline bool finalized() {
  int flag = 0;
  MPI_Finalized(&flag);
  return flag != 0;
}

// "rank 1 of 4" in MPI_COMM_WORLD, or "a process" when MPI is not running.
inline std::string world_rank_name() {
  if (!initialized() || finalized()) return "a process";
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return "rank " + std::to_string(rank) + " of " + std::to_string(size);
}

// Prints the reason on stderr and ends every rank of the job. Never returns.
[[noreturn]] inline void abort_job(const std::string& reason, int code = 1) {
  std::fprintf(stderr, "ctnn: %s: %s\nctnn: calling MPI_Abort so that the whole job ends instead of hanging\n",
               world_rank_name().c_str(), reason.c_str());
  std::fflush(stderr);
  if (initialized() && !finalized()) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for a process without MPI
}

template <class T>
MPI_Datatype datatype() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double only");
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else return MPI_DOUBLE;
}

}  // namespace detail::mpi

// MPI_Init_thread in the constructor, MPI_Finalize in the destructor (RAII). Create one, first
// thing in main, before any MpiDistributed. When MPI is already initialised it does neither.
// The CPU kernels' OpenMP threads never call MPI, so MPI_THREAD_FUNNELED is enough.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv, int required = MPI_THREAD_FUNNELED) { start(&argc, &argv, required); }
  explicit MpiSession(int required = MPI_THREAD_FUNNELED) { start(nullptr, nullptr, required); }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  // An exception leaving the scope of the session (not caught in main) would reach MPI_Finalize
  // with the other ranks still inside a collective, and Finalize waits for them: a hang. So the
  // job is aborted instead.
  ~MpiSession() {
    if (!owner_ || detail::mpi::finalized()) return;
    if (std::uncaught_exceptions() > uncaught_at_start_)
      detail::mpi::abort_job("an exception is leaving the MPI session (wrap the work in MpiSession::run)");
    MPI_Finalize();
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  int thread_level() const { return provided_; }  // MPI_THREAD_* granted

  // Runs body() (returning int, or void for 0). Any exception it throws is printed with the
  // rank and ends the whole job through MPI_Abort: a rank that gave up alone would leave the
  // others waiting in their next allreduce forever.
  template <class Body>
  int run(Body&& body) {
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
        body();
        return 0;
      } else {
        return static_cast<int>(body());
      }
    } catch (const std::exception& e) {
      detail::mpi::abort_job(std::string("uncaught exception: ") + e.what());
    } catch (...) {
      detail::mpi::abort_job("uncaught exception of a type not derived from std::exception");
    }
  }

  // Prints `reason` with the rank and ends every rank of the job.
  [[noreturn]] static void abort(const std::string& reason, int code = 1) {
    detail::mpi::abort_job(reason, code);
  }

 private:
  void start(int* argc, char*** argv, int required) {
    uncaught_at_start_ = std::uncaught_exceptions();
    if (detail::mpi::finalized())
      throw ConfigError("MpiSession: MPI was already finalised; MPI cannot be started twice in one process");
    if (!detail::mpi::initialized()) {
      const int code = MPI_Init_thread(argc, argv, required, &provided_);
      if (code != MPI_SUCCESS)
        throw MpiError("MpiSession: MPI_Init_thread failed: " + detail::mpi::error_string(code), code);
      owner_ = true;
    } else {
      MPI_Query_thread(&provided_);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (provided_ < required)
      detail::mpi::abort_job("MpiSession: asked MPI for thread level " + std::to_string(required) +
                             " but it provides only " + std::to_string(provided_));
  }

  bool owner_ = false;
  int provided_ = 0, rank_ = 0, size_ = 1;
  int uncaught_at_start_ = 0;
};

class MpiDistributed final : public Distributed {
 public:
  struct Options {
    // Reduce arrays in chunks of at most this many bytes (0: one MPI_Allreduce per array).
    // Without per-layer backward hooks nothing can overlap a chunk, so chunks only add latency;
    // the option exists for MPI stacks with a message-size limit (docs/distributed.md).
    std::size_t bucket_bytes = 0;
    MpiOnError on_error = MpiOnError::abort;
  };

  // Time and volume of sum() since construction (or reset_stats()): allreduce cost per step.
  struct Stats {
    std::size_t calls = 0;  // sum() calls
    std::size_t bytes = 0;  // bytes contributed by this rank
    double seconds = 0;     // wall time inside MPI_Allreduce (includes waiting for slower ranks)
  };

  // Duplicates `comm` (collective: every rank of it must construct together).
  explicit MpiDistributed(MPI_Comm comm = MPI_COMM_WORLD) : MpiDistributed(comm, Options{}) {}
  MpiDistributed(MPI_Comm comm, Options options) : options_(options) {
    if (!detail::mpi::initialized() || detail::mpi::finalized())
      throw ConfigError("MpiDistributed: MPI is not running; create a ctnn::MpiSession first "
                        "(or call MPI_Init_thread) and keep it alive while training");
    if (comm == MPI_COMM_NULL) throw ConfigError("MpiDistributed: the communicator is MPI_COMM_NULL");
    // Errors on the original communicator go to its handler (fatal by default); from here on
    // they come back to us.
    const int dup = MPI_Comm_dup(comm, &comm_);
    if (dup != MPI_SUCCESS) fail(dup, "MPI_Comm_dup");
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  MpiDistributed(const MpiDistributed&) = delete;
  MpiDistributed& operator=(const MpiDistributed&) = delete;
  ~MpiDistributed() override {
    if (comm_ != MPI_COMM_NULL && !detail::mpi::finalized()) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void sum(std::span<float> values) override { allreduce(values); }
  void sum(std::span<double> values) override { allreduce(values); }

  // Waits for every rank (e.g. before timing, or before rank 0 reads a file written by others).
  void barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

  // The private duplicate (errors return); for mpi_sweep.hpp and callers' own collectives.
  MPI_Comm comm() const { return comm_; }
  const Options& options() const { return options_; }
  const Stats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

  // Turns a non-success code of `call` into an MpiError, handled as options().on_error says.
  void check(int code, const char* call) const {
    if (code != MPI_SUCCESS) fail(code, call);
  }

 private:
  [[noreturn]] void fail(int code, const char* call) const {
    MpiError error("MpiDistributed: " + std::string(call) + " failed on " +
                       detail::mpi::world_rank_name() + ": " + detail::mpi::error_string(code),
                   code);
    if (options_.on_error == MpiOnError::throw_error) throw error;
    detail::mpi::abort_job(error.what());
  }

  template <class T>
  void allreduce(std::span<T> values) {
    ++stats_.calls;
    stats_.bytes += values.size_bytes();
    if (size_ == 1 || values.empty()) return;
    std::size_t chunk = std::size_t(INT_MAX);
    if (options_.bucket_bytes > 0) chunk = std::clamp<std::size_t>(options_.bucket_bytes / sizeof(T), 1, chunk);
    const double started = MPI_Wtime();
    for (std::size_t first = 0; first < values.size(); first += chunk) {
      const int count = int(std::min(chunk, values.size() - first));
      check(MPI_Allreduce(MPI_IN_PLACE, values.data() + first, count, detail::mpi::datatype<T>(),
                          MPI_SUM, comm_),
            "MPI_Allreduce");
    }
    stats_.seconds += MPI_Wtime() - started;
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  Options options_;
  Stats stats_;
  int rank_ = 0, size_ = 1;
};

}  // namespace ctnn
