// Divergence: a learning rate that drives the loss to NaN or infinity stops that run cleanly, with
// the best finite weights kept and the history saying "diverged at epoch e, step s"; in a sweep
// the other rates carry on.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/train/sweep.hpp"
#include "ctnn/train/trainer.hpp"

using namespace ctnn;

namespace {

// n samples of 1x4x4 in 3 classes: class c brightens row c.
data::Dataset make_data(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  data::Dataset::Images images(data::Dataset::Images::shape_type{n, 1, 4, 4});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % 3);
    labels[i] = c;
    for (std::size_t p = 0; p < 16; ++p)
      images.data()[i * 16 + p] = float(rng.uniform(0.0, 0.5)) + (p / 4 == std::size_t(c) ? 0.8f : 0.0f);
  }
  return data::Dataset(std::move(images), std::move(labels), 3);
}
const data::Dataset& train_set() {
  static const data::Dataset d = make_data(48, 1);
  return d;
}
const data::Dataset& val_set() {
  static const data::Dataset d = make_data(15, 2);
  return d;
}

// ExplodeAt: the base rate for the first `epoch` epochs, then `factor` times it. A controlled way
// to make a run diverge after some good epochs, so there are best weights to go back to.
struct ExplodeAt {
  static constexpr std::string_view kind = "schedule";
  struct Options {
    std::size_t epoch = 2;
    double factor = 1e7;
  };
  static std::string name() { return "ExplodeAt"; }
  ExplodeAt() = default;
  explicit ExplodeAt(Options o) : options_(o) {}
  Options options() const { return options_; }
  double learning_rate(const ScheduleClock& c) const {
    return c.epoch >= options_.epoch ? c.base_lr * options_.factor : c.base_lr;
  }
  void end_epoch(double) {}
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double>) {}

 private:
  Options options_;
};
static_assert(Schedule<ExplodeAt>);

// Linear layers: each layer's gradient grows with the others' weights, so a rate far too large
// overflows to inf/NaN within a few steps (with Relu the units would just die, a finite loss), and
// a NaN input is not hidden (Relu maps NaN to 0).
using Model = Net<Input<1, 4, 4>, Flatten, Dense<8>, Dense<8>, Dense<3>>;

TrainConfig config(double lr, std::size_t epochs = 6) {
  TrainConfig c;
  c.learning_rate = lr;
  c.batch_size = 8;
  c.max_epochs = epochs;
  c.seed = 3;
  c.verbose = 0;
  return c;
}

// "diverged at epoch E, step S (loss L); TAIL" taken apart (std::regex would do, but it draws
// false -Wmaybe-uninitialized warnings from libstdc++ in the sanitizer build).
struct Reason {
  int epoch = -1, step = -1;
  std::string loss, tail;
};
Reason parse_reason(const std::string& text) {
  Reason r;
  char loss[32] = {};
  int used = 0;
  if (std::sscanf(text.c_str(), "diverged at epoch %d, step %d (loss %31[^)]); %n", &r.epoch, &r.step, loss, &used) == 3 &&
      used > 0) {
    r.loss = loss;
    r.tail = text.substr(std::size_t(used));
  }
  return r;
}
bool non_finite_text(const std::string& s) { return s == "nan" || s == "-nan" || s == "inf" || s == "-inf"; }

bool all_finite(std::span<const float> v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}
std::vector<float> values(std::span<const float> s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("a rate that makes the loss NaN/inf stops the run, keeps the best weights, says where", "[divergence]") {
  using Train = Trainer<Model, SoftmaxCrossEntropy, Sgd<>, ExplodeAt>;
  std::ostringstream log;
  auto cfg = config(0.1);
  cfg.verbose = 1;
  cfg.out = &log;
  Model net{5};
  const History h = Train(cfg).fit(net, train_set(), val_set());

  REQUIRE(h.diverged());
  INFO(h.stop_reason());
  // Epochs 1 and 2 are good; the rate jumps 10^7-fold in epoch 3 and a loss goes NaN or infinite.
  const Reason r = parse_reason(h.stop_reason());
  CHECK(r.epoch == 3);
  CHECK((r.step >= 1 && r.step <= 6));  // 48 samples, batches of 8
  CHECK(non_finite_text(r.loss));
  CHECK((r.tail == "kept the weights of epoch 1" || r.tail == "kept the weights of epoch 2"));
  CHECK(h.size() >= 2);
  CHECK(h.best_epoch() <= 1);
  CHECK(h.verdict().fit == Fit::diverged);
  CHECK_THAT(h.report(), Catch::Contains("stop reason: diverged at epoch 3, step"));
  CHECK_THAT(log.str(), Catch::Contains("diverged at epoch 3, step"));

  // The net holds the best epoch's weights: finite, and bit for bit those of a run stopped there.
  CHECK(all_finite(net.parameters()));
  Model stopped{5};
  Train(config(0.1, h.best_epoch() + 1)).fit(stopped, train_set(), val_set());
  CHECK(values(net.parameters()) == values(stopped.parameters()));
}

TEST_CASE("StopOnNaN and EarlyStopping say the same, and the best weights are kept", "[divergence]") {
  using TrainNaN = Trainer<Model, SoftmaxCrossEntropy, Sgd<>, ExplodeAt, NoRegularizer, StopOnNaN>;
  Model a{5};
  const History ha = TrainNaN(config(0.1)).fit(a, train_set(), val_set());
  REQUIRE(ha.diverged());
  CHECK_THAT(ha.stop_reason(), Catch::StartsWith("diverged at epoch 3, step "));
  CHECK(all_finite(a.parameters()));

  using TrainEarly = Trainer<Model, SoftmaxCrossEntropy, Sgd<>, ExplodeAt, NoRegularizer, EarlyStopping<3>>;
  Model b{5};
  const History hb = TrainEarly(config(0.1)).fit(b, train_set(), val_set());
  REQUIRE(hb.diverged());
  CHECK_THAT(hb.stop_reason(), Catch::StartsWith("diverged at epoch 3, step "));
  CHECK(all_finite(b.parameters()));
  CHECK(values(a.parameters()) == values(b.parameters()));  // same run, same best epoch
}

TEST_CASE("diverging in the first epoch: no finite epoch, the initial weights come back", "[divergence]") {
  using Train = Trainer<Model, SoftmaxCrossEntropy, Sgd<>>;
  Model net{5};
  const auto initial = values(net.parameters());
  const History h = Train(config(1e6)).fit(net, train_set(), val_set());
  REQUIRE(h.diverged());
  INFO(h.stop_reason());
  const Reason r = parse_reason(h.stop_reason());
  CHECK(r.epoch == 1);
  CHECK((r.step >= 1 && r.step <= 6));
  CHECK(non_finite_text(r.loss));
  CHECK(r.tail == "restored the initial weights");
  CHECK(h.empty());
  CHECK(values(net.parameters()) == initial);
}

TEST_CASE("a non-finite validation loss at the end of an epoch names its last step", "[divergence]") {
  // A NaN pixel in the validation set: every batch loss is finite, the validation loss is not.
  data::Dataset::Images images = val_set().images();
  images.data()[5] = std::numeric_limits<float>::quiet_NaN();
  const data::Dataset bad_val(images, val_set().labels(), 3);
  using Train = Trainer<Model, SoftmaxCrossEntropy, Sgd<>>;
  Model net{5};
  const History h = Train(config(0.1)).fit(net, train_set(), bad_val);
  REQUIRE(h.diverged());
  // 48 samples in batches of 8: the last step of epoch 1 is step 6.
  CHECK(h.stop_reason() == "diverged at epoch 1, step 6 (loss nan); restored the initial weights");
  REQUIRE(h.size() == 1);
  CHECK(std::isnan(h.epochs()[0].val_loss));
  CHECK(std::isfinite(h.epochs()[0].train_loss));
}

TEST_CASE("in a learning-rate sweep the diverging rate is recorded and the others carry on", "[divergence][sweep]") {
  using Train = Trainer<Model, SoftmaxCrossEntropy, Sgd<>>;
  const std::vector<double> rates{0.1, 1e6, 0.03};
  const SweepResult r = sweep_learning_rates<Train>([] { return Model{5}; }, train_set(), val_set(), rates, config(0.1, 4));
  REQUIRE(r.histories.size() == 3);
  CHECK_FALSE(r.histories[0].diverged());
  CHECK(r.histories[0].size() == 4);
  CHECK(r.histories[1].diverged());
  CHECK_THAT(r.histories[1].stop_reason(), Catch::StartsWith("diverged at epoch 1, step "));
  CHECK_FALSE(r.histories[2].diverged());
  CHECK(r.histories[2].size() == 4);
  CHECK(r.any_converged);
  CHECK(r.best_index != 1);
  CHECK((r.best_learning_rate == 0.1 || r.best_learning_rate == 0.03));
  CHECK_THAT(r.report(), Catch::Contains("lr 1e+06: diverged (diverged at epoch 1, step"));

  const SweepResult all = sweep_learning_rates<Train>([] { return Model{5}; }, train_set(), val_set(), {1e6, 1e7},
                                                      config(0.1, 2));
  CHECK_FALSE(all.any_converged);
  CHECK(std::isnan(all.best_learning_rate));
  CHECK_THAT(all.report(), Catch::EndsWith("every learning rate diverged\n"));
}
