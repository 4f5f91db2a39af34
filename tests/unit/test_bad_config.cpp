// Nonsense run-time settings are rejected before any training starts, with a message naming the
// setting: batch size 0, a negative, zero, NaN or infinite learning rate, zero epochs, an empty or
// single-class validation set, data that does not fit the model, bad policy options, and a
// validation fraction outside (0, 1) in data::split.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/split.hpp"
#include "ctnn/train/trainer.hpp"

namespace fs = std::filesystem;
using namespace ctnn;

namespace {

// n samples of (c, h, w) whose label is i % classes.
data::Dataset make_data(std::size_t n, int classes = 3, std::size_t c = 1, std::size_t h = 4, std::size_t w = 4) {
  data::Dataset::Images images(data::Dataset::Images::shape_type{n, c, h, w});
  for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = float(i % 7) / 7.0f;
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>(i % std::size_t(classes));
  return data::Dataset(std::move(images), std::move(labels));
}

using Model = Net<Input<1, 4, 4>, Flatten, Dense<3>>;
using Plain = Trainer<Model, SoftmaxCrossEntropy>;
using Early = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Constant, NoRegularizer, EarlyStopping<5>>;

const data::Dataset& train_set() {
  static const data::Dataset d = make_data(24);
  return d;
}
const data::Dataset& val_set() {
  static const data::Dataset d = make_data(9);
  return d;
}

std::vector<float> values(std::span<const float> s) { return {s.begin(), s.end()}; }

// Runs fit() with `cfg` and expects a ConfigError with exactly `message`, thrown before any
// training: no progress output, no checkpoint written, the net untouched.
template <class Train = Plain>
void rejected(TrainConfig cfg, const std::string& message, const data::Dataset& train = train_set(),
              const data::Dataset& val = val_set(), typename Train::PolicyOptions policies = {}) {
  std::ostringstream out;
  cfg.verbose = 1;
  cfg.out = &out;
  Model net{1};
  const auto before = values(net.parameters());
  const auto rng_before = net.rng().state();
  CHECK_THROWS_MATCHES(Train(cfg, policies).fit(net, train, val), ConfigError, Catch::Message(message));
  CHECK(out.str().empty());
  CHECK(values(net.parameters()) == before);
  CHECK(net.rng().state() == rng_before);
  if (!cfg.checkpoint_path.empty()) CHECK_FALSE(fs::exists(cfg.checkpoint_path));
  // resume() checks the same settings first, before it even opens the checkpoint.
  CHECK_THROWS_MATCHES(Train(cfg, policies).resume(net, train, val, "/nonexistent/run.ckpt"), ConfigError,
                       Catch::Message(message));
}

TrainConfig good() {
  TrainConfig c;
  c.learning_rate = 0.01;
  c.batch_size = 8;
  c.max_epochs = 2;
  c.verbose = 0;
  return c;
}

}  // namespace

TEST_CASE("the good configuration trains (the baseline of the cases below)", "[config]") {
  Model net{1};
  CHECK(Plain(good()).fit(net, train_set(), val_set()).size() == 2);
  Model other{1};
  CHECK(Plain(good()).fit(other, train_set(), data::Dataset{}).size() == 2);  // MaxEpochs needs no validation
}

TEST_CASE("batch size 0", "[config]") {
  auto c = good();
  c.batch_size = 0;
  rejected(c, "Trainer: batch_size must be at least 1, got 0");
  c = good();
  c.eval_batch_size = 0;
  rejected(c, "Trainer: eval_batch_size must be at least 1, got 0");
}

TEST_CASE("negative, zero, NaN or infinite learning rate", "[config]") {
  const std::pair<double, const char*> cases[] = {
      {-0.1, "-0.1"},
      {-1e-7, "-1e-07"},
      {0.0, "0"},
      {std::numeric_limits<double>::quiet_NaN(), "nan"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {-std::numeric_limits<double>::infinity(), "-inf"},
  };
  for (const auto& [lr, text] : cases) {
    auto c = good();
    c.learning_rate = lr;
    rejected(c, std::string("Trainer: learning_rate must be a finite number > 0, got ") + text);
  }
}

TEST_CASE("zero epochs", "[config]") {
  auto c = good();
  c.max_epochs = 0;
  rejected(c, "Trainer: max_epochs must be at least 1, got 0");
}

TEST_CASE("checkpoint_every without a path", "[config]") {
  auto c = good();
  c.checkpoint_every = 1;
  rejected(c, "Trainer: checkpoint_every is set but checkpoint_path is empty");
}

TEST_CASE("an empty training set", "[config]") {
  rejected(good(), "Trainer: the training set is empty", data::Dataset{});
}

TEST_CASE("an empty validation set with a rule that watches it", "[config]") {
  rejected<Early>(good(), "Trainer: the validation set is empty, but EarlyStopping<5, 0, val_loss> watches validation "
                          "metrics",
                  train_set(), data::Dataset{});
}

TEST_CASE("a single-class validation set", "[config]") {
  const data::Dataset one_class = make_data(6, 3).subset(std::vector<std::size_t>{1, 4});  // labels 1, 1
  rejected(good(), "Trainer: the validation set holds a single class (1): its accuracy would say nothing; split with "
                   "another seed or a larger fraction",
           train_set(), one_class);
}

TEST_CASE("data that does not fit the model", "[config]") {
  rejected(good(), "Trainer: the training set's samples have shape (1, 5, 5) but the model's input_shape is Shape<1, 4, 4>",
           make_data(12, 3, 1, 5, 5));
  rejected(good(), "Trainer: the validation set's samples have shape (3, 4, 4) but the model's input_shape is Shape<1, 4, 4>",
           train_set(), make_data(6, 3, 3, 4, 4));
  rejected(good(), "Trainer: the training set has label 3 at sample 3, outside the model's 3 outputs", make_data(12, 5));
}

TEST_CASE("bad policy options are refused before training too", "[config]") {
  Plain::PolicyOptions adam;
  adam.optimizer.beta1 = 1.5;
  rejected(good(), "Adam: beta1 must be in [0, 1), got 1.5", train_set(), val_set(), adam);
  Early::PolicyOptions early;
  early.stopping.min_delta = -1;
  rejected<Early>(good(), "EarlyStopping: min_delta must be >= 0, got -1", train_set(), val_set(), early);
}

TEST_CASE("data::split: a validation fraction outside (0, 1)", "[config][data]") {
  const data::Dataset d = make_data(10);
  const std::pair<double, const char*> cases[] = {
      {0.0, "0"}, {1.0, "1"}, {-0.5, "-0.5"}, {1.5, "1.5"}, {std::numeric_limits<double>::quiet_NaN(), "nan"}};
  for (const auto& [fraction, text] : cases)
    CHECK_THROWS_MATCHES(data::split(d, fraction, 1), ConfigError,
                         Catch::Message(std::string("split: train_fraction must be strictly between 0 and 1, got ") + text));
  CHECK_THROWS_MATCHES(data::split(d, 0.01, 1), ConfigError,
                       Catch::Message("split: train_fraction 0.01 of 10 samples leaves the training part empty"));
  CHECK_THROWS_MATCHES(data::split(d, 0.99, 1), ConfigError,
                       Catch::Message("split: train_fraction 0.99 of 10 samples leaves the validation part empty"));
  const auto [train, validation] = data::split(d, 0.7, 1);
  CHECK(train.size() == 7);
  CHECK(validation.size() == 3);
}
