// Stopping rules on scripted metric sequences: the epoch they stop at, the best epoch, reasons,
// MinDelta, accuracy monitors, NaN, AnyOf, checkpoint state, concepts.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ctnn/train/adam.hpp"
#include "ctnn/train/regularizers.hpp"
#include "ctnn/train/schedules.hpp"
#include "ctnn/train/stopping.hpp"

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

ctnn::EpochMetrics val(std::size_t epoch, double val_loss, double val_accuracy = 0.5) {
  return {.epoch = epoch,
          .train_loss = 1.0,
          .train_accuracy = 0.5,
          .val_loss = val_loss,
          .val_accuracy = val_accuracy,
          .has_validation = true};
}

// Feeds val losses until the rule stops; returns the epoch it stopped at (or size if never).
template <class Rule>
std::size_t run(Rule& rule, const std::vector<double>& losses, ctnn::StopDecision* last = nullptr) {
  for (std::size_t e = 0; e < losses.size(); ++e) {
    ctnn::StopDecision d = rule.update(val(e, losses[e]));
    if (d.stop) {
      if (last) *last = d;
      return e;
    }
  }
  return losses.size();
}

}  // namespace

TEST_CASE("MaxEpochs never stops early", "[stopping]") {
  ctnn::MaxEpochs rule;
  CHECK(run(rule, {1.0, 2.0, 3.0, kNaN, 5.0}) == 5);
  CHECK_FALSE(rule.check_step(kNaN).stop);
  CHECK(ctnn::MaxEpochs::name() == "MaxEpochs");
}

TEST_CASE("EarlyStopping stops after Patience epochs without improvement", "[stopping]") {
  // improvements at epochs 0, 1, 2, 5; then 6, 7, 8 do not improve on 0.69.
  const std::vector<double> losses = {1.0, 0.8, 0.7, 0.72, 0.71, 0.69, 0.70, 0.69, 0.71, 0.5};
  ctnn::EarlyStopping<3> rule;
  ctnn::StopDecision d;
  CHECK(run(rule, losses, &d) == 8);
  CHECK(rule.best_epoch() == 5);
  CHECK(rule.best() == 0.69);
  CHECK_FALSE(rule.improved());
  CHECK(d.reason ==
        "early stopping: validation loss did not improve for 3 epochs (best 0.69 at epoch 6)");

  SECTION("improved() marks each new best, for keeping the best weights") {
    ctnn::EarlyStopping<3> r;
    std::vector<bool> marks;
    for (std::size_t e = 0; e < 8; ++e) {
      r.update(val(e, losses[e]));
      marks.push_back(r.improved());
    }
    CHECK(marks == std::vector<bool>{true, true, true, false, false, true, false, false});
  }
  SECTION("the reason of the brief's example") {
    ctnn::EarlyStopping<5> r;
    ctnn::StopDecision last;
    const std::vector<double> seq = {0.5, 0.4, 0.35, 0.31, 0.3, 0.29, 0.295, 0.28712, 0.29, 0.3,
                                     0.31, 0.30, 0.2872};
    CHECK(run(r, seq, &last) == 12);
    CHECK(last.reason ==
          "early stopping: validation loss did not improve for 5 epochs (best 0.2871 at epoch 8)");
  }
}

TEST_CASE("EarlyStopping MinDelta: smaller changes do not count", "[stopping]") {
  // best 1.0 (0), 0.9 (1); 0.87 and 0.86 are within 0.05 of 0.9; 0.84 counts (4); then 3 bad.
  const std::vector<double> losses = {1.0, 0.9, 0.87, 0.86, 0.84, 0.83, 0.82, 0.81, 0.7};
  ctnn::EarlyStopping<3, 0.05> rule;
  CHECK(run(rule, losses) == 7);
  CHECK(rule.best_epoch() == 4);
  CHECK(rule.best() == 0.84);
  // Same at run time.
  ctnn::EarlyStopping<> runtime({.patience = 3, .min_delta = 0.05});
  CHECK(run(runtime, losses) == 7);
  CHECK(ctnn::EarlyStopping<3, 0.05>::name() == "EarlyStopping<3, 0.05, val_loss>");
}

TEST_CASE("EarlyStopping on validation accuracy wants it to rise", "[stopping]") {
  ctnn::EarlyStopping<2, 0.0, ctnn::Monitor::val_accuracy> rule;
  const std::vector<double> acc = {0.5, 0.6, 0.7, 0.65, 0.7, 0.71};
  ctnn::StopDecision d;
  for (std::size_t e = 0; e < acc.size() && !d.stop; ++e) d = rule.update(val(e, 1.0, acc[e]));
  CHECK(d.stop);
  CHECK(rule.best_epoch() == 2);
  CHECK(d.reason ==
        "early stopping: validation accuracy did not improve for 2 epochs (best 0.7 at epoch 3)");
  CHECK(ctnn::EarlyStopping<2, 0.0, ctnn::Monitor::val_accuracy>::name() ==
        "EarlyStopping<2, 0, val_accuracy>");
}

TEST_CASE("EarlyStopping needs a validation set to watch one", "[stopping]") {
  ctnn::EarlyStopping<2> rule;
  const ctnn::EpochMetrics no_val{.epoch = 0, .train_loss = 1.0, .train_accuracy = 0.5};
  CHECK_THROWS_WITH(rule.update(no_val), Catch::Contains("no validation set"));
  ctnn::EarlyStopping<1, 0.0, ctnn::Monitor::train_loss> on_train;
  CHECK_FALSE(on_train.update(no_val).stop);
  CHECK(on_train.improved());
  CHECK(on_train.update({.epoch = 1, .train_loss = 1.5}).stop);
}

TEST_CASE("EarlyStopping: NaN never improves", "[stopping]") {
  ctnn::EarlyStopping<2> rule;
  ctnn::StopDecision d;
  CHECK(run(rule, {kNaN, kNaN, 0.5}, &d) == 1);
  CHECK(d.reason == "early stopping: validation loss did not improve for 2 epochs "
                    "(no finite value yet)");
}

TEST_CASE("EarlyStopping state round-trips through a checkpoint", "[stopping]") {
  const std::vector<double> losses = {1.0, 0.8, 0.7, 0.72, 0.71, 0.69, 0.70, 0.69, 0.71};
  ctnn::EarlyStopping<3> a;
  for (std::size_t e = 0; e < 4; ++e) a.update(val(e, losses[e]));
  ctnn::EarlyStopping<3> b;
  b.set_state(a.state());
  CHECK(b.best_epoch() == 2);
  CHECK(b.bad_epochs() == 1);
  std::size_t stopped = 0;
  for (std::size_t e = 4; e < losses.size(); ++e)
    if (b.update(val(e, losses[e])).stop) {
      stopped = e;
      break;
    }
  CHECK(stopped == 8);
  CHECK_THROWS_AS(b.set_state(std::vector<double>{1.0, 2.0}), ctnn::ConfigError);
}

TEST_CASE("StopOnNaN stops at once on a non-finite loss", "[stopping]") {
  ctnn::StopOnNaN rule;
  CHECK_FALSE(rule.update(val(0, 0.5)).stop);
  ctnn::StopDecision d = rule.update({.epoch = 3, .train_loss = kNaN});
  CHECK(d.stop);
  CHECK(d.reason == "diverged: training loss is nan at epoch 4");
  d = rule.update(val(4, kInf));
  CHECK(d.stop);
  CHECK(d.reason == "diverged: validation loss is inf at epoch 5");
  // Without a validation set the (unset, NaN) validation loss is not looked at.
  CHECK_FALSE(rule.update({.epoch = 5, .train_loss = 0.3}).stop);
  // Per batch.
  CHECK_FALSE(rule.check_step(2.5).stop);
  d = rule.check_step(-kInf);
  CHECK(d.stop);
  CHECK(d.reason.starts_with("diverged"));
  CHECK(static_cast<bool>(d));
}

TEST_CASE("AnyOf stops when any rule does, and keeps each rule's state", "[stopping]") {
  using Rule = ctnn::AnyOf<ctnn::EarlyStopping<2>, ctnn::StopOnNaN>;
  CHECK(Rule::name() == "AnyOf<EarlyStopping<2, 0, val_loss>, StopOnNaN>");

  SECTION("early stopping fires") {
    Rule rule;
    ctnn::StopDecision d;
    CHECK(run(rule, {1.0, 0.9, 0.95, 0.96, 0.5}, &d) == 3);
    CHECK(d.reason.starts_with("early stopping"));
    CHECK(rule.best_epoch() == 1);  // from the EarlyStopping inside
    CHECK_FALSE(rule.improved());
  }
  SECTION("divergence fires") {
    Rule rule;
    ctnn::StopDecision d;
    CHECK(run(rule, {1.0, 0.9, kNaN}, &d) == 2);
    CHECK(d.reason == "diverged: validation loss is nan at epoch 3");
    CHECK(rule.check_step(kNaN).stop);
    CHECK_FALSE(rule.check_step(0.1).stop);
  }
  SECTION("state round trip") {
    Rule a, b;
    run(a, {1.0, 0.9, 0.95});
    b.set_state(a.state());
    CHECK(b.state() == a.state());
    CHECK(b.update(val(3, 0.97)).stop);
    CHECK_THROWS_AS(b.set_state(std::vector<double>{}), ctnn::ConfigError);
  }
  SECTION("run-time options, one per rule") {
    Rule rule(Rule::Options{{.patience = 1}, {}});
    CHECK(run(rule, {1.0, 1.1}) == 1);
  }
  SECTION("the first rule that says stop gives the reason") {
    ctnn::AnyOf<ctnn::StopOnNaN, ctnn::EarlyStopping<1>> r;
    ctnn::StopDecision d;
    CHECK(run(r, {1.0, kNaN}, &d) == 1);  // both stop at epoch 1: StopOnNaN comes first
    CHECK(d.reason.starts_with("diverged"));
  }
}

TEST_CASE("Stopping-rule concept", "[stopping][concepts]") {
  static_assert(ctnn::StoppingRule<ctnn::MaxEpochs>);
  static_assert(ctnn::StoppingRule<ctnn::EarlyStopping<5>>);
  static_assert(ctnn::StoppingRule<ctnn::StopOnNaN>);
  static_assert(ctnn::StoppingRule<ctnn::AnyOf<ctnn::MaxEpochs, ctnn::StopOnNaN>>);
  static_assert(ctnn::TracksBest<ctnn::EarlyStopping<5>>);
  static_assert(ctnn::TracksBest<ctnn::AnyOf<ctnn::StopOnNaN, ctnn::EarlyStopping<5>>>);
  static_assert(!ctnn::TracksBest<ctnn::StopOnNaN>);
  static_assert(!ctnn::TracksBest<ctnn::AnyOf<ctnn::StopOnNaN, ctnn::MaxEpochs>>);
  static_assert(!ctnn::StoppingRule<ctnn::Adam<>>);
  static_assert(!ctnn::StoppingRule<ctnn::Constant>);
  static_assert(!ctnn::StoppingRule<ctnn::WeightDecay<1e-4>>);
  static_assert(!ctnn::StoppingRule<int>);
  static_assert(std::is_same_v<ctnn::stopping_slot_t<ctnn::StopOnNaN>, ctnn::StopOnNaN>);
  static_assert(ctnn::StoppingRule<ctnn::detail::placeholder_stopping>);
  CHECK(ctnn::StopOnNaN::kind == "stopping rule");
  CHECK(ctnn::to_string(ctnn::Monitor::train_accuracy) == "train_accuracy");
}
