// The Trainer end to end: a small net learns a synthetic problem, early stopping restores the
// best weights, the history is complete, sweeps pick the best rate, and a short Fashion-MNIST
// run clears 70% test accuracy.
#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/data/fashion_mnist.hpp>
#include <ctnn/data/split.hpp>
#include <ctnn/train/sweep.hpp>
#include <ctnn/train/trainer.hpp>
#include <filesystem>
#include <sstream>

using namespace ctnn;

namespace {
// Two interleaved spirals' easier cousin: points labelled by the sign of x*y (XOR quadrants),
// which a linear model cannot separate.
data::Dataset quadrants(std::size_t n, std::uint64_t seed, std::size_t flip_every = 0) {
  Rng rng(seed);
  data::Dataset::Images images({n, 1, 1, 2});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    double x = rng.uniform(-1, 1), y = rng.uniform(-1, 1);
    if (std::abs(x) < 0.1) x += x < 0 ? -0.1 : 0.1;  // a margin keeps the problem separable
    if (std::abs(y) < 0.1) y += y < 0 ? -0.1 : 0.1;
    images(i, 0, 0, 0) = float(x);
    images(i, 0, 0, 1) = float(y);
    labels[i] = (x * y > 0) ? 1 : 0;
    if (flip_every && i % flip_every == 0) labels[i] ^= 1;  // label noise to memorise
  }
  return data::Dataset(std::move(images), std::move(labels), 2);
}

using Small = Net<Input<2>, Dense<32>, Tanh, Dense<32>, Tanh, Dense<2>>;
using Unbounded = Net<Input<2>, Dense<32>, Relu, Dense<32>, Relu, Dense<2>>;  // can overflow

TrainConfig quiet(double lr, std::size_t batch, std::size_t epochs, std::ostream& out) {
  TrainConfig c;
  c.learning_rate = lr;
  c.batch_size = batch;
  c.max_epochs = epochs;
  c.out = &out;
  return c;
}
}  // namespace

TEST_CASE("a small net learns a non-linear problem to near 100%", "[trainer]") {
  const auto train = quadrants(2000, 1), val = quadrants(500, 2);
  Small net{3};
  std::ostringstream log;
  const History h = Trainer<Small, SoftmaxCrossEntropy, Adam<>>{quiet(1e-2, 32, 30, log)}.fit(net, train, val);
  REQUIRE(h.size() == 30);
  CHECK(h.epochs().back().train_accuracy > 0.97);
  CHECK(evaluate<SoftmaxCrossEntropy>(net, val).accuracy > 0.97);
  CHECK(h.stop_reason() == "reached max_epochs (30)");
  // One progress line per epoch (not a terminal: no bar).
  const std::string text = log.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 30);
  CHECK_THAT(text, Catch::Contains("Epoch 1/30") && Catch::Contains("val_accuracy"));
}

TEST_CASE("every optimizer and schedule trains through the same Trainer", "[trainer]") {
  const auto train = quadrants(800, 4), val = quadrants(200, 5);
  std::ostringstream log;
  auto run = [&]<class Train>(Train trainer) {
    Small net{3};
    return trainer.fit(net, train, val).epochs().back().val_accuracy;
  };
  CHECK(run(Trainer<Small, SoftmaxCrossEntropy, Sgd<0.9, true>, StepDecay<5, 0.5>>{quiet(0.1, 16, 15, log)}) > 0.9);
  CHECK(run(Trainer<Small, SoftmaxCrossEntropy, AdamW<>, Warmup<2, CosineDecay<>>>{quiet(1e-2, 16, 15, log)}) > 0.9);
  CHECK(run(Trainer<Small, SoftmaxCrossEntropy, RmsProp<>, ExponentialDecay<0.9>, L2<1e-4>>{quiet(3e-3, 16, 15, log)}) > 0.9);
  CHECK(run(Trainer<Small, MeanSquaredError, Adam<>, OneCycle<>, L1<1e-5>>{quiet(1e-2, 16, 15, log)}) > 0.9);
  CHECK(run(Trainer<Small, SoftmaxCrossEntropy, Adam<>, ReduceOnPlateau<>, WeightDecay<1e-4>>{quiet(1e-2, 16, 15, log)}) > 0.9);
}

TEST_CASE("early stopping stops, records why, and restores the best weights", "[trainer]") {
  // A tiny noisy training set and a big net: validation loss turns up quickly.
  const auto train = quadrants(40, 6, 3);
  const auto val = quadrants(400, 7);
  using Big = Net<Input<2>, Dense<128>, Relu, Dense<128>, Relu, Dense<2>>;
  Big net{1};
  std::ostringstream log;
  using Train = Trainer<Big, SoftmaxCrossEntropy, Adam<>, Constant, NoRegularizer, EarlyStopping<3>>;
  const History h = Train{quiet(1e-2, 8, 200, log)}.fit(net, train, val);
  REQUIRE(h.size() < 200);
  CHECK_THAT(h.stop_reason(), Catch::Contains("early stopping"));
  const std::size_t best = h.best_epoch();
  CHECK(best + 3 + 1 == h.size());  // patience 3 epochs after the best
  // The net now holds the best epoch's weights: its validation loss is the best one recorded.
  CHECK(evaluate<SoftmaxCrossEntropy>(net, val).loss == Approx(h.epochs()[best].val_loss).epsilon(1e-6));
  CHECK_THAT(h.report(), Catch::Contains("best epoch"));
}

TEST_CASE("a diverging rate stops at once with finite best weights", "[trainer]") {
  const auto train = quadrants(400, 8), val = quadrants(100, 9);
  Unbounded net{2};
  std::ostringstream log;
  const History h = Trainer<Unbounded, SoftmaxCrossEntropy, Sgd<>, Constant, NoRegularizer, StopOnNaN>{
      quiet(1e30, 16, 20, log)}.fit(net, train, val);
  CHECK(h.diverged());
  CHECK_THAT(h.stop_reason(), Catch::StartsWith("diverged at epoch "));
  for (float p : net.parameters()) REQUIRE(std::isfinite(p));
}

TEST_CASE("a learning-rate sweep trains each rate from the same start and picks the best", "[trainer]") {
  const auto train = quadrants(600, 10), val = quadrants(200, 11);
  std::ostringstream log;
  using Train = Trainer<Unbounded, SoftmaxCrossEntropy, Sgd<>>;
  const SweepResult r = sweep_learning_rates<Train>([] { return Unbounded{5}; }, train, val,
                                                    {1e-1, 1e-3, 1e-5, 1e30}, quiet(1, 32, 6, log));
  REQUIRE(r.histories.size() == 4);
  CHECK(r.best_learning_rate == 1e-1);
  CHECK(r.histories[3].diverged());
  CHECK_THAT(r.report(), Catch::Contains("diverged") && Catch::Contains("best learning rate by val_loss: 1e-01"));
  // Same seed and rate: the same history.
  Unbounded a{5};
  const History again = Train{quiet(1e-3, 32, 6, log)}.fit(a, train, val);
  CHECK(again.epochs().back().val_loss == r.histories[1].epochs().back().val_loss);
}

TEST_CASE("history exports: CSV and plot", "[trainer]") {
  const auto train = quadrants(200, 12), val = quadrants(100, 13);
  Small net{1};
  std::ostringstream log;
  const History h = Trainer<Small, SoftmaxCrossEntropy>{quiet(1e-2, 32, 3, log)}.fit(net, train, val);
  const auto dir = std::filesystem::temp_directory_path() / ("ctnn_trainer_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  h.save_csv(dir / "history.csv");
  CHECK(std::filesystem::file_size(dir / "history.csv") > 50);
  if (gnuplot_available()) {
    h.plot(dir / "curves.png");
    CHECK(std::filesystem::file_size(dir / "curves.png") > 1000);
  } else {
    WARN("SKIPPED: gnuplot is not installed, plot not checked");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a short Fashion-MNIST run beats 70% test accuracy", "[trainer][fashion]") {
  const auto dir = data::default_fashion_mnist_dir();
  if (!std::filesystem::exists(dir)) {
    WARN("SKIPPED: Fashion-MNIST not found at " << dir.string() << " (apt-get install dataset-fashion-mnist)");
    return;
  }
  auto data = data::fashion_mnist(dir);
  const auto train = data.train.first(6000), test = data.test.first(2000);
  auto [fit, val] = data::split(train, 0.9, 1);
  using Model = Net<Input<1, 28, 28>, Conv<8, 3>, Relu, MaxPool<2>, Flatten, Dense<32>, Relu, Dense<10>>;
  Model net{42};
  std::ostringstream log;
  const History h = Trainer<Model, SoftmaxCrossEntropy>{quiet(2e-3, 64, 1, log)}.fit(net, fit, val);
  const double accuracy = evaluate<SoftmaxCrossEntropy>(net, test).accuracy;
  INFO(log.str());
  CHECK(accuracy > 0.70);
}
