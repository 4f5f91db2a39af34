// Regularizers: gradients and parameters by hand, segments with decay == false untouched,
// decay_all, penalties, the combinator, errors, concepts. (Regularizer + optimizer against
// PyTorch's weight_decay is in test_optimizers.cpp.)
#include <catch2/catch.hpp>

#include <cmath>
#include <span>
#include <vector>

#include "ctnn/train/adam.hpp"
#include "ctnn/train/regularizers.hpp"
#include "ctnn/train/schedules.hpp"
#include "ctnn/train/sgd.hpp"
#include "ctnn/train/stopping.hpp"

namespace {

// Two layers: Dense weight [0, 4) + bias [4, 6); BatchNorm gamma [6, 7) + beta [7, 8).
const std::vector<ctnn::ParameterSegment> kSegments = {
    {1, "Dense<4>", "weight", 0, 4, true},
    {1, "Dense<4>", "bias", 4, 2, false},
    {2, "BatchNorm", "gamma", 6, 1, false},
    {2, "BatchNorm", "beta", 7, 1, false},
};
const std::vector<double> kParams = {0.5, -2.0, 0.0, 3.0, 1.5, -1.0, 0.8, -0.4};
const std::vector<double> kGrads = {0.1, 0.2, -0.3, 0.0, 0.5, 0.25, -0.1, 0.05};

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

TEMPLATE_TEST_CASE("L2 adds lambda * w to the weights' gradients only", "[regularizers]", float,
                   double) {
  std::vector<TestType> w = as<TestType>(kParams), g = as<TestType>(kGrads);
  const ctnn::L2<0.1> l2;
  l2.before_step(std::span<TestType>(w), std::span<TestType>(g), 0.5, kSegments);
  for (std::size_t i = 0; i < 4; ++i)
    CHECK(g[i] == Approx(kGrads[i] + 0.1 * kParams[i]).epsilon(1e-6));
  for (std::size_t i = 4; i < 8; ++i) CHECK(g[i] == TestType(kGrads[i]));  // bias, BatchNorm
  for (std::size_t i = 0; i < 8; ++i) CHECK(w[i] == TestType(kParams[i]));  // params untouched
  // penalty = lambda / 2 * sum w^2 over the weights: 0.05 * (0.25 + 4 + 0 + 9)
  CHECK(l2.penalty(std::span<const TestType>(w), kSegments) == Approx(0.6625));

  SECTION("decay_all regularizes biases and BatchNorm too") {
    std::vector<TestType> g2 = as<TestType>(kGrads);
    const ctnn::L2<0.1> all({.decay_all = true});
    all.before_step(std::span<TestType>(w), std::span<TestType>(g2), 0.5, kSegments);
    for (std::size_t i = 0; i < 8; ++i)
      CHECK(g2[i] == Approx(kGrads[i] + 0.1 * kParams[i]).epsilon(1e-6));
  }
  SECTION("no segments: the whole array") {
    std::vector<TestType> g2 = as<TestType>(kGrads);
    l2.before_step(std::span<TestType>(w), std::span<TestType>(g2), 0.5, {});
    for (std::size_t i = 0; i < 8; ++i)
      CHECK(g2[i] == Approx(kGrads[i] + 0.1 * kParams[i]).epsilon(1e-6));
  }
}

TEMPLATE_TEST_CASE("L1 adds lambda * sign(w), sign(0) = 0", "[regularizers]", float, double) {
  std::vector<TestType> w = as<TestType>(kParams), g = as<TestType>(kGrads);
  const ctnn::L1<0.01> l1;
  l1.before_step(std::span<TestType>(w), std::span<TestType>(g), 0.5, kSegments);
  CHECK(g[0] == Approx(0.1 + 0.01));
  CHECK(g[1] == Approx(0.2 - 0.01));
  CHECK(g[2] == Approx(-0.3));  // w = 0
  CHECK(g[3] == Approx(0.01));
  for (std::size_t i = 4; i < 8; ++i) CHECK(g[i] == TestType(kGrads[i]));
  // penalty = lambda * sum |w| over the weights: 0.01 * 5.5
  CHECK(l1.penalty(std::span<const TestType>(w), kSegments) == Approx(0.055));
}

TEMPLATE_TEST_CASE("WeightDecay shrinks the weights by 1 - lr * lambda, decoupled",
                   "[regularizers]", float, double) {
  std::vector<TestType> w = as<TestType>(kParams), g = as<TestType>(kGrads);
  const ctnn::WeightDecay<0.1> wd;
  wd.before_step(std::span<TestType>(w), std::span<TestType>(g), 0.5, kSegments);
  for (std::size_t i = 0; i < 4; ++i) CHECK(w[i] == Approx(kParams[i] * 0.95).epsilon(1e-6));
  for (std::size_t i = 4; i < 8; ++i) CHECK(w[i] == TestType(kParams[i]));
  for (std::size_t i = 0; i < 8; ++i) CHECK(g[i] == TestType(kGrads[i]));  // grads untouched
  CHECK(wd.penalty(std::span<const TestType>(w), kSegments) == 0.0);
  wd.after_step(std::span<TestType>(w), 0.5, kSegments);  // nothing
  CHECK(w[4] == TestType(kParams[4]));
}

TEST_CASE("With plain Sgd, WeightDecay and L2 take the same steps", "[regularizers]") {
  std::vector<double> a = kParams, b = kParams, ga = kGrads, gb = kGrads;
  ctnn::Sgd<0.0, false, double> sa, sb;
  sa.resize(8);
  sb.resize(8);
  const ctnn::L2<0.01> l2;
  const ctnn::WeightDecay<0.01> wd;
  for (int s = 0; s < 3; ++s) {
    ga = kGrads;
    gb = kGrads;
    l2.before_step(std::span<double>(a), std::span<double>(ga), 0.1, kSegments);
    sa.step(a, ga, 0.1, kSegments);
    wd.before_step(std::span<double>(b), std::span<double>(gb), 0.1, kSegments);
    sb.step(b, gb, 0.1, kSegments);
  }
  for (std::size_t i = 0; i < 8; ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-14));
}

TEST_CASE("Both / Combine apply each regularizer in turn", "[regularizers]") {
  std::vector<double> w = kParams, g = kGrads;
  ctnn::Both<ctnn::L2<0.1>, ctnn::L1<0.01>> both;
  both.before_step(std::span<double>(w), std::span<double>(g), 0.5, kSegments);
  CHECK(g[0] == Approx(0.1 + 0.1 * 0.5 + 0.01));
  CHECK(g[1] == Approx(0.2 + 0.1 * -2.0 - 0.01));
  CHECK(g[5] == kGrads[5]);
  CHECK(both.penalty(std::span<const double>(w), kSegments) == Approx(0.6625 + 0.055));
  CHECK((ctnn::Both<ctnn::L2<1e-4>, ctnn::L1<1e-5>>::name()) == "Both<L2<0.0001>, L1<1e-05>>");
  CHECK((ctnn::Combine<ctnn::L2<1e-4>, ctnn::L1<1e-5>, ctnn::WeightDecay<0.01>>::name()) ==
        "Combine<L2<0.0001>, L1<1e-05>, WeightDecay<0.01>>");

  SECTION("run-time options, one per part") {
    using R = ctnn::Both<ctnn::L2<0.1>, ctnn::WeightDecay<0.1>>;
    const R r(R::Options{{.lambda = 0.2}, {.lambda = 0.3, .decay_all = true}});
    CHECK(std::get<0>(r.options()).lambda == 0.2);
    CHECK(std::get<1>(r.parts()).options().decay_all);
    std::vector<double> w2 = kParams, g2 = kGrads;
    R copy = r;
    copy.before_step(std::span<double>(w2), std::span<double>(g2), 1.0, kSegments);
    CHECK(g2[0] == Approx(0.1 + 0.2 * 0.5));
    CHECK(w2[0] == Approx(0.5 * 0.7));
    CHECK(w2[5] == Approx(-1.0 * 0.7));  // decay_all reaches the bias
    CHECK(g2[5] == kGrads[5]);           // but L2 does not
  }
}

TEST_CASE("NoRegularizer does nothing", "[regularizers]") {
  std::vector<float> w = as<float>(kParams), g = as<float>(kGrads);
  const ctnn::NoRegularizer none;
  none.before_step(std::span<float>(w), std::span<float>(g), 0.5, kSegments);
  none.after_step(std::span<float>(w), 0.5, kSegments);
  CHECK(w == as<float>(kParams));
  CHECK(g == as<float>(kGrads));
  CHECK(none.penalty(std::span<const float>(w), kSegments) == 0.0);
}

TEST_CASE("Regularizers reject bad settings and segments", "[regularizers]") {
  CHECK_THROWS_AS(ctnn::L2<0.1>({.lambda = -1.0}), ctnn::ConfigError);
  CHECK_THROWS_AS(ctnn::WeightDecay<0.1>({.lambda = -1.0}), ctnn::ConfigError);
  std::vector<double> w = kParams, g = kGrads, short_g(3);
  const std::vector<ctnn::ParameterSegment> bad = {{1, "Dense<4>", "weight", 0, 4, true},
                                                   {1, "Dense<4>", "bias", 6, 5, false}};
  const ctnn::L2<0.1> l2;
  CHECK_THROWS_WITH(l2.before_step(std::span<double>(w), std::span<double>(g), 0.5, bad),
                    Catch::Contains("Dense<4>.bias"));
  CHECK(g == kGrads);  // nothing was changed before the error
  CHECK_THROWS_AS(l2.before_step(std::span<double>(w), std::span<double>(short_g), 0.5, kSegments),
                  ctnn::ConfigError);
}

TEST_CASE("Regularizer concept", "[regularizers][concepts]") {
  static_assert(ctnn::Regularizer<ctnn::NoRegularizer>);
  static_assert(ctnn::Regularizer<ctnn::L2<1e-4>>);
  static_assert(ctnn::Regularizer<ctnn::L1<1e-4>>);
  static_assert(ctnn::Regularizer<ctnn::WeightDecay<1e-4>>);
  static_assert(ctnn::Regularizer<ctnn::Both<ctnn::L2<1e-4>, ctnn::WeightDecay<1e-4>>>);
  static_assert(ctnn::Regularizer<ctnn::Combine<>>);
  static_assert(!ctnn::Regularizer<ctnn::Adam<>>);
  static_assert(!ctnn::Regularizer<ctnn::Constant>);
  static_assert(!ctnn::Regularizer<ctnn::StopOnNaN>);
  static_assert(!ctnn::Regularizer<float>);
  static_assert(std::is_same_v<ctnn::regularizer_slot_t<ctnn::L1<0.5>>, ctnn::L1<0.5>>);
  static_assert(ctnn::Regularizer<ctnn::detail::placeholder_regularizer>);
  CHECK(ctnn::WeightDecay<1e-4>::name() == "WeightDecay<0.0001>");
  CHECK(ctnn::L2<1e-4>::kind == "regularizer");
}
