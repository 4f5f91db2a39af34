#pragma once
// Regularizers: the Trainer's 5th argument.
//
// Per batch the Trainer calls, in this order:
//   reg.before_step(params, grads, lr, segments);   // after backward: change grads or params
//   opt.step(params, grads, lr, segments);
//   reg.after_step(params, lr, segments);
// and reports loss + reg.penalty(params, segments).
//
//   NoRegularizer          nothing
//   L2<Lambda>             grad += Lambda * w               penalty Lambda/2 * sum w^2
//   L1<Lambda>             grad += Lambda * sign(w)         penalty Lambda * sum |w|
//   WeightDecay<Lambda>    w *= 1 - lr * Lambda (decoupled, before the step, as AdamW); penalty 0
//   Both<R1, R2>, Combine<Rs...>   each in turn
//
// Only segments with decay == true are touched (not biases, not BatchNorm) unless
// Options::decay_all; an empty segment list means the whole array, decaying.
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "ctnn/train/concepts.hpp"

namespace ctnn {

// ---------------------------------------------------------------------------------------------
// NoRegularizer: does nothing; penalty 0.
struct NoRegularizer {
  static constexpr std::string_view kind = "regularizer";
  struct Options {};
  CTNN_COLD static std::string name() { return "NoRegularizer"; }

  NoRegularizer() = default;
  explicit NoRegularizer(Options) {}
  Options options() const { return {}; }

  template <class T>
  void before_step(std::span<T>, std::span<T>, double, std::span<const ParameterSegment>) const {}
  template <class T>
  void after_step(std::span<T>, double, std::span<const ParameterSegment>) const {}
  template <class T>
  double penalty(std::span<const T>, std::span<const ParameterSegment>) const { return 0.0; }
};

namespace detail {
template <double Lambda>
struct lambda_options {
  double lambda = Lambda;  // strength, >= 0
  bool decay_all = false;  // also regularize segments with decay == false (biases, BatchNorm)
};

inline void check_lambda(const char* who, double lambda) {
  require(lambda >= 0.0, std::string(who) + ": lambda must be >= 0, got " + number(lambda));
}

inline void check_grads(const char* who, std::size_t params, std::size_t grads) {
  if (params != grads)
    throw ConfigError(std::string(who) + "::before_step: " + std::to_string(params) +
                      " parameters but " + std::to_string(grads) + " gradients");
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// L2<Lambda>: coupled L2 (PyTorch's weight_decay argument of SGD/Adam/RMSprop):
// grad += Lambda * w before the optimizer; penalty = Lambda / 2 * sum w^2 (its gradient).
template <double Lambda>
class L2 {
  static_assert(Lambda >= 0.0, "L2's Lambda must be >= 0");

 public:
  static constexpr std::string_view kind = "regularizer";
  using Options = detail::lambda_options<Lambda>;
  CTNN_COLD static std::string name() { return "L2<" + detail::number(Lambda) + ">"; }

  L2() : L2(Options{}) {}
  explicit L2(Options options) : options_(options) {
    detail::check_lambda("L2", options_.lambda);
  }
  const Options& options() const { return options_; }

  template <class T>
  void before_step(std::span<T> params, std::span<T> grads, double,
                   std::span<const ParameterSegment> segments) const {
    detail::check_grads("L2", params.size(), grads.size());
    const T lambda = T(options_.lambda);
    detail::for_each_decayed_range(segments, params.size(), options_.decay_all, "L2",
                                   [&](std::size_t offset, std::size_t size) {
                                     const T* w = params.data() + offset;
                                     T* g = grads.data() + offset;
                                     for (std::size_t i = 0; i < size; ++i) g[i] += lambda * w[i];
                                   });
  }
  template <class T>
  void after_step(std::span<T>, double, std::span<const ParameterSegment>) const {}

  template <class T>
  double penalty(std::span<const T> params, std::span<const ParameterSegment> segments) const {
    double sum = 0.0;
    detail::for_each_decayed_range(segments, params.size(), options_.decay_all, "L2",
                                   [&](std::size_t offset, std::size_t size) {
                                     const T* w = params.data() + offset;
                                     for (std::size_t i = 0; i < size; ++i)
                                       sum += static_cast<double>(w[i]) * w[i];
                                   });
    return 0.5 * options_.lambda * sum;
  }

 private:
  Options options_;
};

// ---------------------------------------------------------------------------------------------
// L1<Lambda>: grad += Lambda * sign(w) (sign(0) = 0) before the optimizer;
// penalty = Lambda * sum |w|.
template <double Lambda>
class L1 {
  static_assert(Lambda >= 0.0, "L1's Lambda must be >= 0");

 public:
  static constexpr std::string_view kind = "regularizer";
  using Options = detail::lambda_options<Lambda>;
  CTNN_COLD static std::string name() { return "L1<" + detail::number(Lambda) + ">"; }

  L1() : L1(Options{}) {}
  explicit L1(Options options) : options_(options) {
    detail::check_lambda("L1", options_.lambda);
  }
  const Options& options() const { return options_; }

  template <class T>
  void before_step(std::span<T> params, std::span<T> grads, double,
                   std::span<const ParameterSegment> segments) const {
    detail::check_grads("L1", params.size(), grads.size());
    const T lambda = T(options_.lambda);
    detail::for_each_decayed_range(
        segments, params.size(), options_.decay_all, "L1",
        [&](std::size_t offset, std::size_t size) {
          const T* w = params.data() + offset;
          T* g = grads.data() + offset;
          for (std::size_t i = 0; i < size; ++i)  // branch-free sign
            g[i] += lambda * (T(w[i] > T(0)) - T(w[i] < T(0)));
        });
  }
  template <class T>
  void after_step(std::span<T>, double, std::span<const ParameterSegment>) const {}

  template <class T>
  double penalty(std::span<const T> params, std::span<const ParameterSegment> segments) const {
    double sum = 0.0;
    detail::for_each_decayed_range(segments, params.size(), options_.decay_all, "L1",
                                   [&](std::size_t offset, std::size_t size) {
                                     const T* w = params.data() + offset;
                                     for (std::size_t i = 0; i < size; ++i)
                                       sum += std::abs(static_cast<double>(w[i]));
                                   });
    return options_.lambda * sum;
  }

 private:
  Options options_;
};

// ---------------------------------------------------------------------------------------------
// WeightDecay<Lambda>: decoupled weight decay, w *= 1 - lr * Lambda, applied in before_step (on
// the weights the optimizer is about to update, exactly as torch.optim.AdamW does), so
// Adam<> + WeightDecay<L> takes the same steps as AdamW<0.9, 0.999, 1e-8, L>. With plain Sgd it
// equals L2<L>. Not part of the loss: penalty 0.
template <double Lambda>
class WeightDecay {
  static_assert(Lambda >= 0.0, "WeightDecay's Lambda must be >= 0");

 public:
  static constexpr std::string_view kind = "regularizer";
  using Options = detail::lambda_options<Lambda>;
  CTNN_COLD static std::string name() { return "WeightDecay<" + detail::number(Lambda) + ">"; }

  WeightDecay() : WeightDecay(Options{}) {}
  explicit WeightDecay(Options options) : options_(options) {
    detail::check_lambda("WeightDecay", options_.lambda);
  }
  const Options& options() const { return options_; }

  template <class T>
  void before_step(std::span<T> params, std::span<T> grads, double lr,
                   std::span<const ParameterSegment> segments) const {
    detail::check_grads("WeightDecay", params.size(), grads.size());
    const T shrink = T(1.0 - lr * options_.lambda);
    detail::for_each_decayed_range(segments, params.size(), options_.decay_all, "WeightDecay",
                                   [&](std::size_t offset, std::size_t size) {
                                     T* w = params.data() + offset;
                                     for (std::size_t i = 0; i < size; ++i) w[i] *= shrink;
                                   });
  }
  template <class T>
  void after_step(std::span<T>, double, std::span<const ParameterSegment>) const {}

  template <class T>
  double penalty(std::span<const T>, std::span<const ParameterSegment>) const { return 0.0; }

 private:
  Options options_;
};

namespace detail {
template <class R>
using regularizer_or_placeholder =
    std::conditional_t<Regularizer<R>, R, placeholder_regularizer>;
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Combine<Rs...>: every regularizer in turn (before_step and after_step in order); penalty is
// the sum. Both<R1, R2> is Combine<R1, R2>.
template <class... Rs>
class Combine {
  static constexpr bool all_regularizers = (Regularizer<Rs> && ...);
  static_assert(all_regularizers,  // one of the arguments is not a regularizer
                "Combine<Rs...> / Both<R1, R2>: every argument must be a regularizer such as "
                "ctnn::L2<1e-4> or ctnn::L1<1e-5> (see docs/regularizers.md)");
  using parts_type = std::tuple<detail::regularizer_or_placeholder<Rs>...>;

 public:
  static constexpr std::string_view kind = "regularizer";
  using Options = std::tuple<typename detail::regularizer_or_placeholder<Rs>::Options...>;
  CTNN_COLD static std::string name() {
    std::string out = sizeof...(Rs) == 2 ? "Both<" : "Combine<";
    bool first = true;
    ((out += (first ? "" : ", ") + detail::regularizer_or_placeholder<Rs>::name(), first = false),
     ...);
    return out + ">";
  }

  Combine() = default;
  explicit Combine(Options options)
      : parts_(std::apply([](const auto&... o) { return parts_type(o...); }, options)) {}

  Options options() const {
    return std::apply([](const auto&... r) { return Options(r.options()...); }, parts_);
  }
  const parts_type& parts() const { return parts_; }

  template <class T>
  void before_step(std::span<T> params, std::span<T> grads, double lr,
                   std::span<const ParameterSegment> segments) {
    std::apply([&](auto&... r) { (r.before_step(params, grads, lr, segments), ...); }, parts_);
  }
  template <class T>
  void after_step(std::span<T> params, double lr, std::span<const ParameterSegment> segments) {
    std::apply([&](auto&... r) { (r.after_step(params, lr, segments), ...); }, parts_);
  }
  template <class T>
  double penalty(std::span<const T> params, std::span<const ParameterSegment> segments) const {
    return std::apply([&](const auto&... r) { return (0.0 + ... + r.penalty(params, segments)); },
                      parts_);
  }

 private:
  parts_type parts_;
};

template <class R1, class R2>
using Both = Combine<R1, R2>;

static_assert(Regularizer<NoRegularizer>);
static_assert(Regularizer<L2<1e-4>>);
static_assert(Regularizer<L1<1e-4>>);
static_assert(Regularizer<WeightDecay<1e-4>>);
static_assert(Regularizer<Both<L2<1e-4>, L1<1e-5>>>);

}  // namespace ctnn
