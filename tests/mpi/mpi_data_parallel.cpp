// Data parallelism means the same as one process: N ranks with global batch 64 end with the
// weights one process reaches with batch 64 (within the float tolerance below), and the ranks'
// weights are bit-identical to each other. Also: only rank 0 prints, an epoch's last batch may
// be smaller than the number of ranks, and models with BatchNorm and Dropout stay identical on
// every rank (their numbers differ from one process by design: per-rank batch statistics and
// per-rank dropout masks; docs/distributed.md).
//
// Tolerance: max |w_N - w_1| <= 1e-5 * max |w_1| over all weights. The only difference between
// the runs is the order of float additions in the batch gradient (two half-batch sums, each
// scaled by 1/2, added by the allreduce, instead of one full-batch sum): ~1e-7 relative per step,
// grown by tens of optimizer steps. Measured on 2 and 3 ranks: see docs/distributed.md.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/trainer.hpp>

#include "mpi_test.hpp"

using namespace ctnn;

namespace {

using Plain = Net<Input<1, 8, 8>, Conv<4, 3>, Relu, MaxPool<2>, Flatten, Dense<16>, Relu, Dense<3>>;
using Noisy = Net<Input<1, 8, 8>, Conv<4, 3>, BatchNorm, Relu, MaxPool<2>, Flatten, Dense<16>, Relu,
                  Dropout<0.3>, Dense<3>>;

constexpr double weight_tolerance = 1e-5;  // relative to the largest weight, see above
constexpr double loss_tolerance = 1e-5;    // relative, per epoch, train and validation loss

double max_abs(std::span<const float> v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::abs(x)));
  return m;
}

// Trains Model{7} once on one process and once on all ranks with the same global batch.
template <class Train>
void compare_with_one_process(MpiDistributed& dist, mpi_test::Checks& check, const std::string& name,
                              TrainConfig cfg, const data::Dataset& train, const data::Dataset& val) {
  using Model = typename Train::model_type;
  cfg.verbose = 0;
  cfg.distributed = nullptr;
  Model reference{7};
  const History h1 = Train{cfg}.fit(reference, train, val);

  std::ostringstream progress;
  cfg.verbose = 1;
  cfg.out = &progress;
  cfg.distributed = &dist;
  Model net{7};
  const History hn = Train{cfg}.fit(net, train, val);

  const auto w = std::span<const float>(net.parameters()), w1 = std::span<const float>(reference.parameters());
  double diff = 0;
  for (std::size_t i = 0; i < w.size(); ++i) diff = std::max(diff, double(std::abs(w[i] - w1[i])));
  const double relative = diff / max_abs(w1);
  double loss_diff = 0;
  bool same_epochs = h1.size() == hn.size();
  for (std::size_t e = 0; same_epochs && e < h1.size(); ++e) {
    const auto &a = h1.epochs()[e], &b = hn.epochs()[e];
    loss_diff = std::max({loss_diff, std::abs(a.train_loss - b.train_loss) / std::abs(a.train_loss),
                          std::abs(a.val_loss - b.val_loss) / std::abs(a.val_loss)});
  }
  if (dist.rank() == 0)
    std::printf("%s: %zu epochs, max |w_%d - w_1| / max |w_1| = %.3g, max relative loss difference %.3g\n",
                name.c_str(), hn.size(), dist.size(), relative, loss_diff);

  check(mpi_test::same_on_all_ranks<float>(dist, w), name + ": weights bit-identical on every rank");
  check(mpi_test::same_on_all_ranks<double>(dist, mpi_test::history_numbers(hn)),
        name + ": histories identical on every rank");
  check(relative <= weight_tolerance, name + ": weights match one process (relative difference " +
                                          std::to_string(relative) + ")");
  check(same_epochs && loss_diff <= loss_tolerance,
        name + ": losses match one process (relative difference " + std::to_string(loss_diff) + ")");
  check(h1.stop_reason() == hn.stop_reason(), name + ": same stop reason");
  check(dist.rank() == 0 ? !progress.str().empty() : progress.str().empty(),
        name + ": only rank 0 prints progress");
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  return mpi.run([&] {
    MpiDistributed dist;
    mpi_test::Checks check{dist.rank()};
    const data::Dataset val = mpi_test::templates(200, 2);

    TrainConfig cfg;
    cfg.batch_size = 64;
    cfg.seed = 5;

    // 520 = 8 x 64 + 8: a short last batch.
    const data::Dataset train520 = mpi_test::templates(520, 1);
    cfg.learning_rate = 3e-3;
    cfg.max_epochs = 3;
    compare_with_one_process<Trainer<Plain, SoftmaxCrossEntropy, Adam<>>>(dist, check, "Adam, 27 steps", cfg,
                                                                         train520, val);
    // 513 = 8 x 64 + 1: the last batch has one sample, so every rank but one gets none.
    const data::Dataset train513 = mpi_test::templates(513, 3);
    cfg.learning_rate = 0.05;
    cfg.max_epochs = 3;
    compare_with_one_process<Trainer<Plain, SoftmaxCrossEntropy, Sgd<0.9>>>(
        dist, check, "SGD momentum, last batch of 1", cfg, train513, val);

    // BatchNorm + Dropout + early stopping: not comparable with one process, but every rank must
    // hold the same weights and buffers, make the same stopping decision and restore the same
    // epoch (a rank that stopped alone would hang the others).
    {
      using Train = Trainer<Noisy, SoftmaxCrossEntropy, Adam<>, Constant, NoRegularizer, EarlyStopping<2>>;
      TrainConfig c = cfg;
      c.learning_rate = 3e-2;  // large enough to overfit early on this small set
      c.max_epochs = 30;
      c.verbose = 0;
      c.distributed = &dist;
      Noisy net{7};
      const History h = Train{c}.fit(net, train520, val);
      check(mpi_test::same_on_all_ranks<float>(dist, std::span<const float>(net.parameters())),
            "BatchNorm + Dropout: weights bit-identical on every rank");
      check(mpi_test::same_on_all_ranks<float>(dist, std::span<const float>(net.buffers())),
            "BatchNorm + Dropout: running statistics bit-identical on every rank");
      check(mpi_test::same_on_all_ranks<double>(dist, mpi_test::history_numbers(h)),
            "BatchNorm + Dropout: histories identical on every rank");
      if (dist.rank() == 0) std::printf("BatchNorm + Dropout: %s\n", h.stop_reason().c_str());

      // Each rank draws its own dropout masks: after the same number of draws the ranks' net
      // rngs must differ (rank 0 keeps the stream a single process would start with).
      const auto state = net.rng().state();
      check(dist.size() == 1 ||
                !mpi_test::same_on_all_ranks<std::uint64_t>(dist, std::span<const std::uint64_t>(state)),
            "Dropout: every rank has its own random stream");
    }
    return mpi_test::finish(dist, check, "mpi_data_parallel");
  });
}
