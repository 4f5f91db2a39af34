// Schedules: sequences against PyTorch's lr_scheduler (tests/fixtures/policies_reference.txt,
// written by tests/fixtures/make_policy_fixtures.py), Warmup by hand, state, errors, concepts.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/train/adam.hpp"
#include "ctnn/train/regularizers.hpp"
#include "ctnn/train/schedules.hpp"
#include "ctnn/train/stopping.hpp"

namespace {

const std::vector<double>& fixture(const std::string& key) {
  static const std::map<std::string, std::vector<double>> all = [] {
    std::map<std::string, std::vector<double>> out;
    const std::string path =
        std::string(CTNN_SOURCE_DIR) + "/tests/fixtures/policies_reference.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string name;
      std::size_t count = 0;
      fields >> name >> count;
      std::vector<double> values(count);
      for (double& v : values) fields >> v;
      if (!fields) throw std::runtime_error("bad fixture line for " + name);
      out.emplace(name, std::move(values));
    }
    return out;
  }();
  const auto it = all.find(key);
  if (it == all.end()) throw std::runtime_error("no fixture " + key);
  return it->second;
}

ctnn::ScheduleClock clock_at(double base, std::size_t epoch, std::size_t total_epochs,
                             std::size_t step_in_epoch = 0, std::size_t steps_per_epoch = 0) {
  return {.base_lr = base,
          .epoch = epoch,
          .step_in_epoch = step_in_epoch,
          .steps_per_epoch = steps_per_epoch,
          .total_epochs = total_epochs};
}

// The lr of each epoch (per-epoch schedules: the first batch of each epoch).
template <class S>
std::vector<double> per_epoch(const S& s, double base, std::size_t epochs,
                              std::size_t steps_per_epoch = 5) {
  std::vector<double> out;
  for (std::size_t e = 0; e < epochs; ++e)
    out.push_back(s.learning_rate(clock_at(base, e, epochs, 0, steps_per_epoch)));
  return out;
}

void check_sequence(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("index " << i);
    CHECK(got[i] == Approx(want[i]).epsilon(1e-12).margin(1e-15));
  }
}

}  // namespace

TEST_CASE("Constant", "[schedules]") {
  const ctnn::Constant s;
  CHECK(s.learning_rate(clock_at(0.1, 0, 10)) == 0.1);
  CHECK(s.learning_rate(clock_at(0.1, 9, 10, 3, 4)) == 0.1);
  CHECK(ctnn::Constant::name() == "Constant");
}

TEST_CASE("StepDecay matches StepLR", "[schedules][pytorch]") {
  const auto& settings = fixture("step_lr.settings");  // base, step, gamma, epochs
  REQUIRE(settings[1] == 3);
  REQUIRE(settings[2] == 0.5);
  check_sequence(per_epoch(ctnn::StepDecay<3, 0.5>{}, settings[0], 10), fixture("step_lr.lrs"));
  check_sequence(per_epoch(ctnn::StepDecay<>({.step_epochs = 3, .gamma = 0.5}), settings[0], 10),
                 fixture("step_lr.lrs"));
  // Per epoch: every batch of an epoch has the same lr.
  const ctnn::StepDecay<3, 0.5> s;
  CHECK(s.learning_rate(clock_at(0.1, 4, 10, 0, 8)) == s.learning_rate(clock_at(0.1, 4, 10, 7, 8)));
  CHECK(ctnn::StepDecay<3, 0.5>::name() == "StepDecay<3, 0.5>");
}

TEST_CASE("ExponentialDecay matches ExponentialLR", "[schedules][pytorch]") {
  check_sequence(per_epoch(ctnn::ExponentialDecay<0.9>{}, 0.1, 8), fixture("exponential_lr.lrs"));
  CHECK(ctnn::ExponentialDecay<>::name() == "ExponentialDecay<0.95>");
}

TEST_CASE("CosineDecay matches CosineAnnealingLR", "[schedules][pytorch]") {
  // base 0.1, eta_min 0.005 = 0.05 * base, T_max = 10 epochs.
  check_sequence(per_epoch(ctnn::CosineDecay<0.05>{}, 0.1, 10), fixture("cosine_lr.lrs"));
  check_sequence(per_epoch(ctnn::CosineDecay<>({.min_factor = 0.05}), 0.1, 10),
                 fixture("cosine_lr.lrs"));
  CHECK(ctnn::CosineDecay<>::name() == "CosineDecay<0, false>");

  SECTION("per batch: over total steps") {
    const ctnn::CosineDecay<0.0, true> s;
    // 4 epochs x 5 batches = 20 steps; step 10 is half way.
    CHECK(s.learning_rate(clock_at(1.0, 0, 4, 0, 5)) == Approx(1.0));
    CHECK(s.learning_rate(clock_at(1.0, 2, 4, 0, 5)) == Approx(0.5));
    CHECK(s.learning_rate(clock_at(1.0, 2, 4, 1, 5)) ==
          Approx((1 + std::cos(std::numbers::pi * 11 / 20)) / 2));
    CHECK(s.learning_rate(clock_at(1.0, 3, 4, 4, 5)) ==
          Approx((1 + std::cos(std::numbers::pi * 19 / 20)) / 2));
    CHECK_THROWS_AS(s.learning_rate(clock_at(1.0, 0, 4, 0, 0)), ctnn::ConfigError);
  }
  SECTION("past the end it stays at the minimum") {
    const ctnn::CosineDecay<0.1> s;
    CHECK(s.learning_rate(clock_at(1.0, 12, 10)) == Approx(0.1));
  }
  CHECK_THROWS_AS(ctnn::CosineDecay<>{}.learning_rate(clock_at(1.0, 0, 0)), ctnn::ConfigError);
  CHECK_THROWS_AS(ctnn::CosineDecay<>({.min_factor = 2.0}), ctnn::ConfigError);
}

TEST_CASE("Warmup<2, CosineDecay<>> ramps per batch, then runs the inner schedule",
          "[schedules]") {
  const ctnn::Warmup<2, ctnn::CosineDecay<>> s;
  const double base = 0.4;
  const std::size_t total = 12, spe = 10;
  auto lr = [&](std::size_t epoch, std::size_t step) {
    return s.learning_rate(clock_at(base, epoch, total, step, spe));
  };
  // 20 warmup batches; batch k gets base * (k + 1) / 20.
  CHECK(lr(0, 0) == Approx(base / 20));
  CHECK(lr(0, 9) == Approx(base / 2));
  CHECK(lr(1, 0) == Approx(base * 11 / 20));
  CHECK(lr(1, 9) == Approx(base));
  for (std::size_t k = 0; k + 1 < 20; ++k)
    CHECK(lr(k / 10, k % 10) < lr((k + 1) / 10, (k + 1) % 10));
  // Then the cosine over the remaining 10 epochs, its time starting at 0.
  CHECK(lr(2, 0) == Approx(base));
  CHECK(lr(2, 9) == Approx(base));  // CosineDecay is per epoch
  CHECK(lr(7, 0) == Approx(base / 2));
  CHECK(lr(3, 0) == Approx(base * (1 + std::cos(std::numbers::pi / 10)) / 2));
  CHECK(lr(11, 0) == Approx(base * (1 + std::cos(std::numbers::pi * 9 / 10)) / 2));
  CHECK(ctnn::Warmup<2, ctnn::CosineDecay<>>::name() == "Warmup<2, CosineDecay<0, false>>");

  SECTION("without steps_per_epoch the ramp moves per epoch") {
    CHECK(s.learning_rate(clock_at(base, 0, total)) == Approx(base / 2));
    CHECK(s.learning_rate(clock_at(base, 1, total)) == Approx(base));
  }
  SECTION("run-time options reach the warmup and the inner schedule") {
    const ctnn::Warmup<2, ctnn::CosineDecay<>> t({.epochs = 1, .inner = {.min_factor = 0.5}});
    CHECK(t.learning_rate(clock_at(1.0, 0, 11, 4, 5)) == Approx(1.0));
    CHECK(t.learning_rate(clock_at(1.0, 1, 11, 0, 5)) == Approx(1.0));
    CHECK(t.learning_rate(clock_at(1.0, 6, 11, 0, 5)) == Approx(0.75));  // half way to 0.5
  }
  SECTION("Warmup<0, X> is X") {
    const ctnn::Warmup<0, ctnn::StepDecay<2, 0.5>> none;
    for (std::size_t e = 0; e < 6; ++e)
      CHECK(none.learning_rate(clock_at(1.0, e, 6, 1, 3)) ==
            ctnn::StepDecay<2, 0.5>{}.learning_rate(clock_at(1.0, e, 6, 1, 3)));
  }
}

TEST_CASE("Warmup passes end_epoch to the inner schedule only after the warmup", "[schedules]") {
  ctnn::Warmup<2, ctnn::ReduceOnPlateau<0.5, 0>> s;
  s.end_epoch(1.0);  // warmup epochs: ignored by the inner schedule
  s.end_epoch(2.0);
  CHECK(s.inner().best() == std::numeric_limits<double>::infinity());
  s.end_epoch(1.0);  // inner epoch 0: best 1.0
  s.end_epoch(1.5);  // bad epoch, patience 0: cut
  CHECK(s.inner().factor() == 0.5);
  CHECK(s.learning_rate(clock_at(0.2, 4, 10, 0, 3)) == Approx(0.1));
  // Checkpoint round trip.
  ctnn::Warmup<2, ctnn::ReduceOnPlateau<0.5, 0>> restored;
  restored.set_state(s.state());
  CHECK(restored.state() == s.state());
  CHECK(restored.epochs_done() == 4);
  CHECK(restored.inner().factor() == 0.5);
  CHECK_THROWS_AS(restored.set_state(std::vector<double>{1.0}), ctnn::ConfigError);
}

TEST_CASE("ReduceOnPlateau matches ReduceLROnPlateau on a scripted loss sequence",
          "[schedules][pytorch]") {
  // base 0.1, factor 0.5, patience 2, threshold 1e-4, cooldown 1, min_lr 0.01 = 0.1 * base.
  const auto& settings = fixture("plateau.settings");
  const auto& losses = fixture("plateau.losses");
  const auto& want = fixture("plateau.lrs");
  using Plateau = ctnn::ReduceOnPlateau<0.5, 2, 1e-4, 1, 0.1>;
  Plateau s;
  ctnn::ReduceOnPlateau<> runtime({.factor = 0.5, .patience = 2, .cooldown = 1, .min_factor = 0.1});
  std::vector<double> got, got_runtime;
  for (std::size_t e = 0; e < losses.size(); ++e) {
    s.end_epoch(losses[e]);
    runtime.end_epoch(losses[e]);
    got.push_back(s.learning_rate(clock_at(settings[0], e + 1, 100)));
    got_runtime.push_back(runtime.learning_rate(clock_at(settings[0], e + 1, 100)));
  }
  check_sequence(got, want);
  check_sequence(got_runtime, want);
  CHECK(s.reductions() == 4);  // 0.1 -> 0.05 -> 0.025 -> 0.0125 -> 0.01 (the floor)
  CHECK(s.best() == Approx(0.85));

  SECTION("state round trip mid-sequence") {
    Plateau a, b;
    for (std::size_t e = 0; e < 7; ++e) a.end_epoch(losses[e]);
    b.set_state(a.state());
    for (std::size_t e = 7; e < losses.size(); ++e) {
      a.end_epoch(losses[e]);
      b.end_epoch(losses[e]);
      CHECK(a.factor() == b.factor());
      CHECK(a.bad_epochs() == b.bad_epochs());
    }
  }
  SECTION("NaN counts as a bad epoch") {
    ctnn::ReduceOnPlateau<0.5, 1> p;
    p.end_epoch(1.0);
    p.end_epoch(std::nan(""));
    CHECK(p.bad_epochs() == 1);
    p.end_epoch(std::nan(""));
    CHECK(p.factor() == 0.5);
  }
  CHECK(Plateau::name() == "ReduceOnPlateau<0.5, 2, 0.0001, 1, 0.1>");
  CHECK_THROWS_AS(ctnn::ReduceOnPlateau<>({.factor = 1.0}), ctnn::ConfigError);
}

TEST_CASE("OneCycle matches OneCycleLR (cos) per batch", "[schedules][pytorch]") {
  auto run = [](const auto& s, const std::string& name) {
    const auto& st = fixture(name + ".settings");  // base, epochs, steps, pct, div, final_div
    const std::size_t epochs = std::size_t(st[1]), steps = std::size_t(st[2]);
    std::vector<double> got;
    for (std::size_t e = 0; e < epochs; ++e)
      for (std::size_t k = 0; k < steps; ++k)
        got.push_back(s.learning_rate(clock_at(st[0], e, epochs, k, steps)));
    check_sequence(got, fixture(name + ".lrs"));
  };
  run(ctnn::OneCycle<>{}, "one_cycle");
  run(ctnn::OneCycle<1.0, 0.25, 10.0, 100.0>{}, "one_cycle_custom");
  run(ctnn::OneCycle<>({.pct_start = 0.25, .div_factor = 10.0, .final_div_factor = 100.0}),
      "one_cycle_custom");
  // MaxFactor scales the peak: the config lr 0.05 with MaxFactor 2 peaks at 0.1.
  run(ctnn::OneCycle<>({.max_factor = 2.0}), "one_cycle_half_base");
  CHECK(ctnn::OneCycle<>::name() == "OneCycle<1, 0.3, 25, 10000>");
  CHECK_THROWS_AS(ctnn::OneCycle<>{}.learning_rate(clock_at(0.1, 0, 3, 0, 0)), ctnn::ConfigError);
}

TEST_CASE("Schedules have no state unless they need it", "[schedules]") {
  CHECK(ctnn::Constant{}.state().empty());
  CHECK(ctnn::CosineDecay<>{}.state().empty());
  CHECK(ctnn::OneCycle<>{}.state().empty());
  CHECK(ctnn::ReduceOnPlateau<>{}.state().size() == 5);
  CHECK(ctnn::Warmup<1, ctnn::Constant>{}.state().size() == 1);
  ctnn::Constant c;
  CHECK_THROWS_AS(c.set_state(std::vector<double>{1.0}), ctnn::ConfigError);
}

TEST_CASE("Schedule concept", "[schedules][concepts]") {
  static_assert(ctnn::Schedule<ctnn::Constant>);
  static_assert(ctnn::Schedule<ctnn::StepDecay<>>);
  static_assert(ctnn::Schedule<ctnn::ExponentialDecay<>>);
  static_assert(ctnn::Schedule<ctnn::CosineDecay<0.1, true>>);
  static_assert(ctnn::Schedule<ctnn::Warmup<2, ctnn::CosineDecay<>>>);
  static_assert(ctnn::Schedule<ctnn::Warmup<3, ctnn::Warmup<1>>>);
  static_assert(ctnn::Schedule<ctnn::ReduceOnPlateau<>>);
  static_assert(ctnn::Schedule<ctnn::OneCycle<>>);
  static_assert(!ctnn::Schedule<ctnn::Adam<>>);
  static_assert(!ctnn::Schedule<ctnn::L2<1e-4>>);
  static_assert(!ctnn::Schedule<ctnn::MaxEpochs>);
  static_assert(!ctnn::Schedule<double>);
  static_assert(std::is_same_v<ctnn::schedule_slot_t<ctnn::Constant>, ctnn::Constant>);
  static_assert(ctnn::Schedule<ctnn::detail::placeholder_schedule>);
  CHECK(ctnn::Constant::kind == "schedule");
}
