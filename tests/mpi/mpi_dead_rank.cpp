// mpi_dead_rank MODE: two ranks train; at the 5th allreduce rank 1 fails in the way MODE says.
// The job must then end with a non-zero status instead of leaving rank 0 waiting in its
// allreduce (run by tests/mpi/expect_job_failure.cmake under `timeout 60`).
//   abort      std::abort()                       (a crash: SIGABRT)
//   exit       std::exit(1) without MPI_Finalize  (a rank that quits)
//   signal     raise(SIGKILL)                     (killed from outside, e.g. out of memory)
//   exception  throws; MpiSession::run prints it and calls MPI_Abort
//   mpi_error  a failing MPI call; MpiDistributed prints the MpiError and calls MPI_Abort
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/trainer.hpp>

#include "mpi_test.hpp"

using namespace ctnn;

namespace {

using Model = Net<Input<1, 8, 8>, Conv<4, 3>, Relu, MaxPool<2>, Flatten, Dense<16>, Relu, Dense<3>>;

// Forwards to MpiDistributed and makes rank 1 fail at its 5th gradient allreduce.
class Failing final : public Distributed {
 public:
  Failing(MpiDistributed& inner, std::string mode) : inner_(inner), mode_(std::move(mode)) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void sum(std::span<float> v) override {
    if (++calls_ == 5 && rank() == 1) fail();
    inner_.sum(v);
  }
  void sum(std::span<double> v) override { inner_.sum(v); }

 private:
  void fail() {
    if (mode_ == "abort") std::abort();
    if (mode_ == "exit") std::exit(1);
    if (mode_ == "signal") std::raise(SIGKILL);
    if (mode_ == "exception") throw std::runtime_error("rank 1 gives up");
    if (mode_ == "mpi_error") {
      float x = 0;  // a negative count: MPI returns MPI_ERR_COUNT (errors return on ctnn's communicator)
      inner_.check(MPI_Allreduce(MPI_IN_PLACE, &x, -1, MPI_FLOAT, MPI_SUM, inner_.comm()), "MPI_Allreduce");
    }
    throw std::logic_error("mpi_dead_rank: unknown mode " + mode_);
  }
  MpiDistributed& inner_;
  std::string mode_;
  int calls_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  return mpi.run([&] {
    const std::string mode = argc > 1 ? argv[1] : "";
    MpiDistributed dist;
    Failing failing(dist, mode);
    const data::Dataset train = mpi_test::templates(2048, 1), val = mpi_test::templates(200, 2);
    TrainConfig cfg;
    cfg.batch_size = 64;
    cfg.max_epochs = 1000;  // far longer than the test's timeout: only a failed job ends early
    cfg.verbose = 0;
    cfg.distributed = &failing;
    Model net{7};
    Trainer<Model, SoftmaxCrossEntropy>{cfg}.fit(net, train, val);
    return 0;
  });
}
