// Optimizers: PyTorch-verified steps (tests/fixtures/policies_reference.txt, written by
// tests/fixtures/make_policy_fixtures.py), state for checkpoints, options, errors, concepts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/train/adam.hpp"
#include "ctnn/train/regularizers.hpp"
#include "ctnn/train/rmsprop.hpp"
#include "ctnn/train/schedules.hpp"
#include "ctnn/train/sgd.hpp"
#include "ctnn/train/stopping.hpp"

namespace {

using Fixtures = std::map<std::string, std::vector<double>>;

const Fixtures& fixtures() {
  static const Fixtures all = [] {
    Fixtures out;
    const std::string path =
        std::string(CTNN_SOURCE_DIR) + "/tests/fixtures/policies_reference.txt";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string key;
      std::size_t count = 0;
      fields >> key >> count;
      std::vector<double> values(count);
      for (double& v : values) fields >> v;
      if (!fields) throw std::runtime_error("bad fixture line for " + key);
      out.emplace(key, std::move(values));
    }
    return out;
  }();
  return all;
}

const std::vector<double>& fixture(const std::string& key) {
  const auto it = fixtures().find(key);
  if (it == fixtures().end()) throw std::runtime_error("no fixture " + key);
  return it->second;
}

// The 6 parameters of the fixtures: a 4-value "weight" (decays) and a 2-value "bias" (does not).
const std::vector<ctnn::ParameterSegment> kSegments = {
    {1, "Dense<4>", "weight", 0, 4, true},
    {1, "Dense<4>", "bias", 4, 2, false},
};

// Runs the fixture's steps with opt (and reg) and compares every parameter after every step.
template <class Opt, class Reg = ctnn::NoRegularizer>
void check_against_pytorch(const std::string& name, Opt opt,
                           std::span<const ctnn::ParameterSegment> segments, Reg reg = {}) {
  using T = typename Opt::scalar_type;
  const bool is_float = std::is_same_v<T, float>;
  const std::vector<double>& p0 = fixture(name + ".params0");
  const std::vector<double>& grads = fixture(name + ".grads");
  const std::vector<double>& lrs = fixture(name + ".lrs");
  const std::vector<double>& want = fixture(name + (is_float ? ".f32" : ".f64"));
  const std::size_t n = p0.size();
  std::vector<T> params(p0.begin(), p0.end()), g(n);
  opt.resize(n);
  for (std::size_t s = 0; s < lrs.size(); ++s) {
    for (std::size_t i = 0; i < n; ++i) g[i] = T(grads[s * n + i]);
    reg.before_step(std::span<T>(params), std::span<T>(g), lrs[s], segments);
    opt.step(params, g, lrs[s], segments);
    reg.after_step(std::span<T>(params), lrs[s], segments);
    for (std::size_t i = 0; i < n; ++i) {
      INFO(name << (is_float ? " float" : " double") << ", step " << s + 1 << ", parameter " << i);
      if (is_float)  // float: bit-identical but for rare 1-ulp rounding differences
        CHECK(double(params[i]) == Approx(want[s * n + i]).epsilon(1e-6).margin(1e-7));
      else
        CHECK(double(params[i]) == Approx(want[s * n + i]).epsilon(1e-13).margin(1e-15));
    }
  }
  CHECK(opt.step_count() == lrs.size());
}

template <class Opt>
void check_both_types(const std::string& name, typename Opt::Options options = {},
                      std::span<const ctnn::ParameterSegment> segments = kSegments) {
  check_against_pytorch(name, typename Opt::template rebind<float>(options), segments);
  check_against_pytorch(name, typename Opt::template rebind<double>(options), segments);
}

}  // namespace

TEST_CASE("Sgd matches torch.optim.SGD", "[optimizers][pytorch]") {
  check_both_types<ctnn::Sgd<>>("sgd");
  check_both_types<ctnn::Sgd<0.9>>("sgd_momentum");
  check_both_types<ctnn::Sgd<0.9, true>>("sgd_nesterov");
  // The same programs with the hyperparameters given at run time.
  check_both_types<ctnn::Sgd<>>("sgd_momentum", {.momentum = 0.9});
  check_both_types<ctnn::Sgd<>>("sgd_nesterov", {.momentum = 0.9, .nesterov = true});
}

TEST_CASE("Adam matches torch.optim.Adam", "[optimizers][pytorch]") {
  check_both_types<ctnn::Adam<>>("adam");
  check_both_types<ctnn::Adam<0.8, 0.99, 1e-6>>("adam_b08_b099_e1e-6");
  check_both_types<ctnn::Adam<>>("adam_b08_b099_e1e-6",
                                 {.beta1 = 0.8, .beta2 = 0.99, .epsilon = 1e-6});
}

TEST_CASE("AdamW matches torch.optim.AdamW and skips decay=false segments",
          "[optimizers][pytorch]") {
  // PyTorch: weight group decays 0.1, bias group 0. ctnn: one array, bias segment decay=false.
  check_both_types<ctnn::AdamW<0.9, 0.999, 1e-8, 0.1>>("adamw_wd0.1");
  check_both_types<ctnn::AdamW<>>("adamw_wd0.1", {.decay = 0.1});
  // PyTorch's default (1e-2 on every parameter): decay_all, or no segments at all.
  check_both_types<ctnn::AdamW<>>("adamw_default_all", {.decay_all = true});
  check_both_types<ctnn::AdamW<>>("adamw_default_all", {}, {});
}

TEST_CASE("RmsProp matches torch.optim.RMSprop", "[optimizers][pytorch]") {
  check_both_types<ctnn::RmsProp<>>("rmsprop");
  check_both_types<ctnn::RmsProp<0.9, 1e-8, 0.9>>("rmsprop_a0.9_m0.9");
  check_both_types<ctnn::RmsProp<>>("rmsprop_a0.9_m0.9", {.alpha = 0.9, .momentum = 0.9});
}

TEST_CASE("Optimizer + regularizer match PyTorch's weight_decay", "[optimizers][pytorch]") {
  // Coupled: SGD(momentum 0.9, weight_decay 0.1 on the weight group) == Sgd<0.9> + L2<0.1>.
  check_against_pytorch("sgd_momentum_l2_0.1", ctnn::Sgd<0.9, false, double>{}, kSegments,
                        ctnn::L2<0.1>{});
  check_against_pytorch("sgd_momentum_l2_0.1", ctnn::Sgd<0.9, false, float>{}, kSegments,
                        ctnn::L2<0.1>{});
  // Decoupled: AdamW(weight_decay 0.1 on the weight group) == Adam<> + WeightDecay<0.1>.
  check_against_pytorch("adamw_wd0.1", ctnn::Adam<0.9, 0.999, 1e-8, double>{}, kSegments,
                        ctnn::WeightDecay<0.1>{});
  check_against_pytorch("adamw_wd0.1", ctnn::Adam<0.9, 0.999, 1e-8, float>{}, kSegments,
                        ctnn::WeightDecay<0.1>{});
}

TEST_CASE("Optimizer names, kinds and rebinding", "[optimizers]") {
  CHECK(ctnn::Sgd<>::name() == "Sgd<0, false>");
  CHECK(ctnn::Sgd<0.9, true>::name() == "Sgd<0.9, true>");
  CHECK(ctnn::Adam<>::name() == "Adam<0.9, 0.999, 1e-08>");
  CHECK(ctnn::AdamW<>::name() == "AdamW<0.9, 0.999, 1e-08, 0.01>");
  CHECK(ctnn::RmsProp<>::name() == "RmsProp<0.99, 1e-08, 0>");
  CHECK(ctnn::Adam<>::kind == "optimizer");

  static_assert(std::is_same_v<ctnn::Adam<>::scalar_type, float>);
  static_assert(std::is_same_v<ctnn::Adam<>::rebind<double>, ctnn::Adam<0.9, 0.999, 1e-8, double>>);
  static_assert(std::is_same_v<ctnn::optimizer_for<ctnn::AdamW<>, double>::scalar_type, double>);
  // Options do not depend on the scalar type, so the user's Options reach the rebound optimizer.
  static_assert(std::is_same_v<ctnn::Adam<>::Options, ctnn::Adam<>::rebind<double>::Options>);
  static_assert(std::is_same_v<ctnn::Sgd<0.9>::Options, ctnn::Sgd<0.9>::rebind<double>::Options>);
  const ctnn::Adam<> user({.beta1 = 0.5});
  const ctnn::Adam<>::rebind<double> rebound(user.options());
  CHECK(rebound.options().beta1 == 0.5);
  CHECK(rebound.options().beta2 == 0.999);
}

TEST_CASE("Optimizer state round-trips through a checkpoint", "[optimizers]") {
  const std::size_t n = 5;
  auto run = [&](auto& opt, std::vector<double>& w, int from, int to) {
    std::vector<double> g(n);
    for (int s = from; s < to; ++s) {
      for (std::size_t i = 0; i < n; ++i) g[i] = std::sin(0.7 * double(s) + double(i)) + 0.1 * w[i];
      opt.step(w, g, 0.05, {});
    }
  };
  auto check = [&](auto straight) {
    using Opt = decltype(straight);
    std::vector<double> w0{0.3, -0.2, 1.0, 0.0, -1.5};
    // Uninterrupted: 7 steps.
    std::vector<double> w_straight = w0;
    straight.resize(n);
    run(straight, w_straight, 0, 7);
    // Interrupted after 3 steps: save state, restore into a fresh optimizer, go on.
    Opt first(straight.options());
    first.resize(n);
    std::vector<double> w = w0;
    run(first, w, 0, 3);
    const std::uint64_t saved_steps = first.step_count();
    std::vector<std::vector<double>> saved;
    for (auto buffer : first.state_buffers()) saved.emplace_back(buffer.begin(), buffer.end());
    CHECK(first.state_names().size() == saved.size());

    Opt second(straight.options());
    second.resize(n);
    second.set_step_count(saved_steps);
    auto buffers = second.state_buffers();
    REQUIRE(buffers.size() == saved.size());
    for (std::size_t b = 0; b < buffers.size(); ++b) {
      REQUIRE(buffers[b].size() == n);
      std::copy(saved[b].begin(), saved[b].end(), buffers[b].begin());
    }
    run(second, w, 3, 7);
    CHECK(second.step_count() == 7);
    for (std::size_t i = 0; i < n; ++i) CHECK(w[i] == w_straight[i]);  // bit for bit
  };
  check(ctnn::Sgd<0.9, true, double>{});
  check(ctnn::Adam<0.9, 0.999, 1e-8, double>{});
  check(ctnn::AdamW<0.9, 0.999, 1e-8, 0.1, double>{});
  check(ctnn::RmsProp<0.99, 1e-8, 0.5, double>{});
  check(ctnn::RmsProp<0.99, 1e-8, 0.0, double>{});
}

TEST_CASE("Optimizer state buffers are named like PyTorch's", "[optimizers]") {
  ctnn::Adam<> adam;
  adam.resize(3);
  CHECK(adam.state_names() == std::vector<std::string_view>{"exp_avg", "exp_avg_sq"});
  CHECK(adam.state_buffers().size() == 2);
  CHECK(adam.state_buffers()[1].size() == 3);

  ctnn::Sgd<> plain;
  plain.resize(3);
  CHECK(plain.state_buffers().empty());  // no momentum, no state
  ctnn::Sgd<0.9> heavy;
  heavy.resize(3);
  CHECK(heavy.state_names() == std::vector<std::string_view>{"momentum_buffer"});

  ctnn::RmsProp<0.99, 1e-8, 0.9> rms;
  rms.resize(4);
  CHECK(rms.state_names() == std::vector<std::string_view>{"square_avg", "momentum_buffer"});
  CHECK(rms.state_buffers().size() == 2);

  // resize() starts afresh.
  std::vector<float> w{1, 2, 3}, g{1, 1, 1};
  adam.step(w, g, 0.1, {});
  CHECK(adam.step_count() == 1);
  adam.resize(3);
  CHECK(adam.step_count() == 0);
  CHECK(adam.state_buffers()[0][0] == 0.0f);
}

TEST_CASE("Optimizers reject bad settings and mismatched arrays", "[optimizers]") {
  using ctnn::ConfigError;
  CHECK_THROWS_AS(ctnn::Sgd<>({.momentum = 1.5}), ConfigError);
  CHECK_THROWS_AS(ctnn::Sgd<>({.momentum = 0.0, .nesterov = true}), ConfigError);
  CHECK_THROWS_AS(ctnn::Adam<>({.beta1 = 1.0}), ConfigError);
  CHECK_THROWS_AS(ctnn::Adam<>({.epsilon = -1.0}), ConfigError);
  CHECK_THROWS_AS(ctnn::AdamW<>({.decay = -0.1}), ConfigError);
  CHECK_THROWS_AS(ctnn::RmsProp<>({.alpha = -0.1}), ConfigError);

  ctnn::Adam<> adam;
  std::vector<float> w(4, 1.0f), g(4, 0.5f), short_g(3, 0.5f);
  CHECK_THROWS_WITH(adam.step(w, g, 0.1, {}), Catch::Contains("resize(n)"));  // not sized
  adam.resize(4);
  CHECK_THROWS_WITH(adam.step(w, short_g, 0.1, {}), Catch::Contains("3 gradients"));
  CHECK_THROWS_AS(adam.step(w, g, -0.1, {}), ConfigError);
  CHECK_THROWS_AS(adam.step(w, g, std::nan(""), {}), ConfigError);
  const std::vector<ctnn::ParameterSegment> too_long = {{1, "Dense<9>", "weight", 0, 9, true}};
  ctnn::AdamW<> adamw;
  adamw.resize(4);
  CHECK_THROWS_WITH(adamw.step(w, g, 0.1, too_long), Catch::Contains("Dense<9>.weight"));
  CHECK(adamw.step_count() == 0);  // nothing changed
  CHECK(w[0] == 1.0f);
}

namespace {
// Says it is an optimizer but has no resize/step: not an optimizer.
struct NotQuiteAnOptimizer {
  static constexpr std::string_view kind = "optimizer";
  static std::string name() { return "NotQuiteAnOptimizer"; }
  struct Options {};
  NotQuiteAnOptimizer() = default;
  explicit NotQuiteAnOptimizer(Options) {}
};
}  // namespace

TEST_CASE("Optimizer concept and slot check", "[optimizers][concepts]") {
  static_assert(ctnn::Optimizer<ctnn::Sgd<>>);
  static_assert(ctnn::Optimizer<ctnn::Sgd<0.9, true>>);
  static_assert(ctnn::Optimizer<ctnn::Adam<>>);
  static_assert(ctnn::Optimizer<ctnn::AdamW<>>);
  static_assert(ctnn::Optimizer<ctnn::RmsProp<>>);
  static_assert(ctnn::Optimizer<ctnn::Adam<0.9, 0.999, 1e-8, double>>);
  static_assert(!ctnn::Optimizer<ctnn::Constant>);
  static_assert(!ctnn::Optimizer<ctnn::CosineDecay<>>);
  static_assert(!ctnn::Optimizer<ctnn::L2<1e-4>>);
  static_assert(!ctnn::Optimizer<ctnn::EarlyStopping<5>>);
  static_assert(!ctnn::Optimizer<int>);
  static_assert(!ctnn::Optimizer<std::vector<float>>);
  static_assert(!ctnn::Optimizer<NotQuiteAnOptimizer>);
  // The slot check passes valid optimizers through unchanged.
  static_assert(std::is_same_v<ctnn::optimizer_slot_t<ctnn::Adam<>>, ctnn::Adam<>>);
  static_assert(std::is_same_v<ctnn::check_optimizer_slot<ctnn::Sgd<0.9>>::type, ctnn::Sgd<0.9>>);
  static_assert(ctnn::Optimizer<ctnn::detail::placeholder_optimizer<>>);  // the stand-in
  SUCCEED();
}
