// The distributed learning-rate sweep returns what the single-process sweep returns: the same
// best rate and index and the same histories (apart from timings; expected bit for bit, since
// each rate is trained by one process alone exactly as on one process, with one thread per rank;
// checked within 1e-12 relative). Every rank gets the same result, only rank 0 prints, and a rate
// that fails on one rank makes every rank throw instead of hanging.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/mpi_sweep.hpp>
#include <ctnn/train/sweep.hpp>
#include <ctnn/train/trainer.hpp>

#include "mpi_test.hpp"

using namespace ctnn;

namespace {
using Model = Net<Input<1, 8, 8>, Conv<4, 3>, Relu, MaxPool<2>, Flatten, Dense<16>, Relu, Dense<3>>;
using Train = Trainer<Model, SoftmaxCrossEntropy, Sgd<0.9>, Constant, NoRegularizer, EarlyStopping<2>>;
constexpr double history_tolerance = 1e-12;  // relative; expected to be exactly 0
}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  return mpi.run([&] {
    MpiDistributed dist;
    mpi_test::Checks check{dist.rank()};
    const data::Dataset train = mpi_test::templates(512, 1), val = mpi_test::templates(200, 2);
    const std::vector<double> rates = {1e4, 0.3, 0.1, 0.03, 0.01};  // 1e4 diverges
    TrainConfig cfg;
    cfg.batch_size = 32;
    cfg.max_epochs = 6;
    cfg.seed = 3;
    const auto make = [] { return Model{11}; };

    std::ostringstream progress;
    TrainConfig loud = cfg;
    loud.verbose = 1;
    loud.out = &progress;
    const SweepResult distributed = sweep_learning_rates_distributed<Train>(make, train, val, rates, dist, loud);
    check(dist.rank() == 0 ? !progress.str().empty() : progress.str().empty(), "only rank 0 prints");

    // Every rank holds the same result.
    std::vector<double> numbers = {distributed.best_learning_rate, double(distributed.best_index),
                                   distributed.any_converged ? 1.0 : 0.0};
    for (const History& h : distributed.histories) {
      const auto hn = mpi_test::history_numbers(h);
      numbers.insert(numbers.end(), hn.begin(), hn.end());
    }
    check(mpi_test::same_on_all_ranks<double>(dist, numbers), "every rank returns the same SweepResult");

    // Rank 0 compares with the single-process sweep.
    if (dist.rank() == 0) {
      TrainConfig quiet = cfg;
      quiet.verbose = 0;
      const SweepResult single = sweep_learning_rates<Train>(make, train, val, rates, quiet);
      std::printf("single process:\n%sdistributed over %d ranks:\n%s", single.report().c_str(), dist.size(),
                  distributed.report().c_str());
      check(single.best_learning_rate == distributed.best_learning_rate, "same best learning rate");
      check(single.best_index == distributed.best_index, "same best index");
      check(single.any_converged == distributed.any_converged, "same any_converged");
      check(single.learning_rates == distributed.learning_rates, "same learning rates, same order");
      double worst = 0;
      bool same_shape = single.histories.size() == distributed.histories.size();
      for (std::size_t i = 0; same_shape && i < single.histories.size(); ++i) {
        const History &a = single.histories[i], &b = distributed.histories[i];
        same_shape = a.stop_reason() == b.stop_reason() && a.diverged() == b.diverged();
        const auto x = mpi_test::history_numbers(a), y = mpi_test::history_numbers(b);
        same_shape = same_shape && x.size() == y.size();
        for (std::size_t k = 0; same_shape && k < x.size(); ++k) {
          if (std::isnan(x[k]) && std::isnan(y[k])) continue;
          worst = std::max(worst, std::abs(x[k] - y[k]) / std::max(1.0, std::abs(x[k])));
        }
      }
      std::printf("largest relative history difference: %.3g\n", worst);
      check(same_shape, "same histories: epochs, stop reasons, divergence");
      check(worst <= history_tolerance, "same history numbers (" + std::to_string(worst) + ")");
      check(distributed.histories[0].diverged(), "the huge rate diverged (and was not chosen)");
    }

    // A rate that fails on one rank (a negative rate is a ConfigError in Trainer::fit) makes every
    // rank throw the same Error after the gather; with 3 ranks one rank trains no rate at all.
    std::string error;
    try {
      TrainConfig quiet = cfg;
      quiet.verbose = 0;
      quiet.max_epochs = 1;
      sweep_learning_rates_distributed<Train>(make, train, val, {0.1, -1.0}, dist, quiet);
    } catch (const Error& e) {
      error = e.what();
    }
    check(error.find("learning rate -1e+00") != std::string::npos && error.find("rank 1") != std::string::npos,
          "a failing rate is reported on every rank: '" + error + "'");

    std::string refused;
    try {
      TrainConfig bad = cfg;
      bad.checkpoint_every = 1;
      bad.checkpoint_path = "sweep.ckpt";
      sweep_learning_rates_distributed<Train>(make, train, val, rates, dist, bad);
    } catch (const ConfigError& e) {
      refused = e.what();
    }
    check(refused.find("checkpoint") != std::string::npos, "checkpoints are refused in a distributed sweep");
    return mpi_test::finish(dist, check, "mpi_sweep");
  });
}
