#pragma once
// ctnn::Adam and ctnn::AdamW: torch.optim.Adam (amsgrad off, weight_decay 0) and torch.optim.AdamW.
//   k += 1
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g * g
//   w -= lr / (1 - beta1^k) * m / (sqrt(v) / sqrt(1 - beta2^k) + eps)
// AdamW first shrinks the decaying parameters, w *= 1 - lr * decay (decoupled weight decay),
// then takes the Adam step. See docs/optimizers.md.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/kernels/kernels.hpp"
#include "ctnn/train/concepts.hpp"

namespace ctnn {

namespace detail {

template <double Beta1, double Beta2, double Epsilon>
struct adam_options {
  double beta1 = Beta1;      // in [0, 1)
  double beta2 = Beta2;      // in [0, 1)
  double epsilon = Epsilon;  // >= 0
};

template <double Beta1, double Beta2, double Epsilon, double Decay>
struct adamw_options {
  double beta1 = Beta1;        // in [0, 1)
  double beta2 = Beta2;        // in [0, 1)
  double epsilon = Epsilon;    // >= 0
  double decay = Decay;        // >= 0; PyTorch's weight_decay
  bool decay_all = false;      // also decay segments with decay == false (biases, BatchNorm)
};

CTNN_COLD inline void check_adam_options(const char* who, double beta1, double beta2, double epsilon) {
  require(beta1 >= 0.0 && beta1 < 1.0,
          std::string(who) + ": beta1 must be in [0, 1), got " + number(beta1));
  require(beta2 >= 0.0 && beta2 < 1.0,
          std::string(who) + ": beta2 must be in [0, 1), got " + number(beta2));
  require(epsilon >= 0.0, std::string(who) + ": epsilon must be >= 0, got " + number(epsilon));
}

// First and second moments and the step count; shared by Adam and AdamW.
template <class T>
struct adam_state {
  std::size_t size = 0;
  std::vector<T> exp_avg, exp_avg_sq;
  std::uint64_t step_count = 0;

  void resize(std::size_t n) {
    size = n;
    exp_avg.assign(n, T(0));
    exp_avg_sq.assign(n, T(0));
    step_count = 0;
  }

  // One Adam update of n values with step number step_count (already incremented).
  void update(T* w, const T* g, std::size_t n, double lr, double beta1, double beta2,
              double epsilon) {
    const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step_count));
    const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step_count));
    const kernels::AdamCoefficients<T> c{T(-(lr / bias_correction1)),
                                         T(std::sqrt(bias_correction2)),
                                         T(beta1),
                                         T(1.0 - beta1),
                                         T(beta2),
                                         T(1.0 - beta2),
                                         T(epsilon)};
    kernels::adam_update(w, g, exp_avg.data(), exp_avg_sq.data(), n, c);
  }

  std::vector<std::span<T>> buffers() { return {std::span<T>(exp_avg), std::span<T>(exp_avg_sq)}; }
  std::vector<std::span<const T>> buffers() const {
    return {std::span<const T>(exp_avg), std::span<const T>(exp_avg_sq)};
  }
};

}  // namespace detail

// Adam<Beta1, Beta2, Epsilon>; the last parameter is the scalar type, set by the Trainer (rebind).
template <double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, class T = float>
class Adam {
  static_assert(Beta1 >= 0.0 && Beta1 < 1.0, "Adam's Beta1 must be in [0, 1)");
  static_assert(Beta2 >= 0.0 && Beta2 < 1.0, "Adam's Beta2 must be in [0, 1)");
  static_assert(Epsilon >= 0.0, "Adam's Epsilon must be >= 0");
  static_assert(std::is_floating_point_v<T>, "Adam's scalar type must be float or double");

 public:
  static constexpr std::string_view kind = "optimizer";
  using scalar_type = T;
  using Options = detail::adam_options<Beta1, Beta2, Epsilon>;
  template <class U>
  using rebind = Adam<Beta1, Beta2, Epsilon, U>;

  CTNN_COLD static std::string name() {
    return "Adam<" + detail::number(Beta1) + ", " + detail::number(Beta2) + ", " +
           detail::number(Epsilon) + ">";
  }

  Adam() : Adam(Options{}) {}
  explicit Adam(Options options) : options_(options) {
    detail::check_adam_options("Adam", options_.beta1, options_.beta2, options_.epsilon);
  }

  const Options& options() const { return options_; }

  // Fresh state for n parameters: both moments zeroed, step_count 0.
  void resize(std::size_t n) { state_.resize(n); }

  // One update of params from grads; segments are not used by Adam.
  void step(std::span<T> params, std::span<const T> grads, double lr,
            std::span<const ParameterSegment> = {}) {
    detail::check_optimizer_step("Adam", state_.size, params.size(), grads.size(), lr);
    ++state_.step_count;
    state_.update(params.data(), grads.data(), params.size(), lr, options_.beta1,
                  options_.beta2, options_.epsilon);
  }

  std::uint64_t step_count() const { return state_.step_count; }
  void set_step_count(std::uint64_t k) { state_.step_count = k; }

  // {exp_avg, exp_avg_sq}, each of size n (PyTorch's state names).
  std::vector<std::span<T>> state_buffers() { return state_.buffers(); }
  std::vector<std::span<const T>> state_buffers() const { return state_.buffers(); }
  std::vector<std::string_view> state_names() const { return {"exp_avg", "exp_avg_sq"}; }

 private:
  Options options_;
  detail::adam_state<T> state_;
};

// AdamW<Beta1, Beta2, Epsilon, Decay>: Adam with decoupled weight decay (PyTorch AdamW).
// Segments with decay == false (biases, BatchNorm) are not decayed unless Options::decay_all;
// an empty segment list decays the whole array.
template <double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double Decay = 1e-2,
          class T = float>
class AdamW {
  static_assert(Beta1 >= 0.0 && Beta1 < 1.0, "AdamW's Beta1 must be in [0, 1)");
  static_assert(Beta2 >= 0.0 && Beta2 < 1.0, "AdamW's Beta2 must be in [0, 1)");
  static_assert(Epsilon >= 0.0, "AdamW's Epsilon must be >= 0");
  static_assert(Decay >= 0.0, "AdamW's Decay must be >= 0");
  static_assert(std::is_floating_point_v<T>, "AdamW's scalar type must be float or double");

 public:
  static constexpr std::string_view kind = "optimizer";
  using scalar_type = T;
  using Options = detail::adamw_options<Beta1, Beta2, Epsilon, Decay>;
  template <class U>
  using rebind = AdamW<Beta1, Beta2, Epsilon, Decay, U>;

  CTNN_COLD static std::string name() {
    return "AdamW<" + detail::number(Beta1) + ", " + detail::number(Beta2) + ", " +
           detail::number(Epsilon) + ", " + detail::number(Decay) + ">";
  }

  AdamW() : AdamW(Options{}) {}
  explicit AdamW(Options options) : options_(options) {
    detail::check_adam_options("AdamW", options_.beta1, options_.beta2, options_.epsilon);
    detail::require(options_.decay >= 0.0,
                    "AdamW: decay must be >= 0, got " + detail::number(options_.decay));
  }

  const Options& options() const { return options_; }

  void resize(std::size_t n) { state_.resize(n); }

  // w *= 1 - lr * decay on the decaying segments, then the Adam update on all parameters.
  void step(std::span<T> params, std::span<const T> grads, double lr,
            std::span<const ParameterSegment> segments = {}) {
    detail::check_optimizer_step("AdamW", state_.size, params.size(), grads.size(), lr);
    const T shrink = T(1.0 - lr * options_.decay);
    T* w = params.data();
    detail::for_each_decayed_range(segments, params.size(), options_.decay_all, "AdamW::step",
                                   [&](std::size_t offset, std::size_t size) {
                                     T* p = w + offset;
                                     for (std::size_t i = 0; i < size; ++i) p[i] *= shrink;
                                   });
    ++state_.step_count;
    state_.update(w, grads.data(), params.size(), lr, options_.beta1, options_.beta2,
                  options_.epsilon);
  }

  std::uint64_t step_count() const { return state_.step_count; }
  void set_step_count(std::uint64_t k) { state_.step_count = k; }

  // {exp_avg, exp_avg_sq}, each of size n (PyTorch's state names).
  std::vector<std::span<T>> state_buffers() { return state_.buffers(); }
  std::vector<std::span<const T>> state_buffers() const { return state_.buffers(); }
  std::vector<std::string_view> state_names() const { return {"exp_avg", "exp_avg_sq"}; }

 private:
  Options options_;
  detail::adam_state<T> state_;
};

static_assert(Optimizer<Adam<>>);
static_assert(Optimizer<AdamW<>>);

}  // namespace ctnn
