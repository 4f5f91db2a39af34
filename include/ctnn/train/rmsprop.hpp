#pragma once
// ctnn::RmsProp: torch.optim.RMSprop (centered off, weight_decay 0).
//   s  = alpha * s + (1 - alpha) * g * g
//   a  = sqrt(s) + eps
//   momentum > 0:  buf = momentum * buf + g / a;   w -= lr * buf
//   momentum = 0:  w -= lr * g / a
// See docs/optimizers.md.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/train/concepts.hpp"

namespace ctnn {

namespace detail {
template <double Alpha, double Epsilon, double Momentum>
struct rmsprop_options {
  double alpha = Alpha;        // smoothing of the squared gradient, in [0, 1)
  double epsilon = Epsilon;    // >= 0
  double momentum = Momentum;  // in [0, 1); 0 turns momentum off (no buffer)
};
}  // namespace detail

// RmsProp<Alpha, Epsilon, Momentum>; the last parameter is the scalar type (rebind).
template <double Alpha = 0.99, double Epsilon = 1e-8, double Momentum = 0.0, class T = float>
class RmsProp {
  static_assert(Alpha >= 0.0 && Alpha < 1.0, "RmsProp's Alpha must be in [0, 1)");
  static_assert(Epsilon >= 0.0, "RmsProp's Epsilon must be >= 0");
  static_assert(Momentum >= 0.0 && Momentum < 1.0, "RmsProp's Momentum must be in [0, 1)");
  static_assert(std::is_floating_point_v<T>, "RmsProp's scalar type must be float or double");

 public:
  static constexpr std::string_view kind = "optimizer";
  using scalar_type = T;
  using Options = detail::rmsprop_options<Alpha, Epsilon, Momentum>;
  template <class U>
  using rebind = RmsProp<Alpha, Epsilon, Momentum, U>;

  CTNN_COLD static std::string name() {
    return "RmsProp<" + detail::number(Alpha) + ", " + detail::number(Epsilon) + ", " +
           detail::number(Momentum) + ">";
  }

  RmsProp() : RmsProp(Options{}) {}
  explicit RmsProp(Options options) : options_(options) {
    detail::require(options_.alpha >= 0.0 && options_.alpha < 1.0,
                    "RmsProp: alpha must be in [0, 1), got " + detail::number(options_.alpha));
    detail::require(options_.epsilon >= 0.0,
                    "RmsProp: epsilon must be >= 0, got " + detail::number(options_.epsilon));
    detail::require(options_.momentum >= 0.0 && options_.momentum < 1.0,
                    "RmsProp: momentum must be in [0, 1), got " +
                        detail::number(options_.momentum));
  }

  const Options& options() const { return options_; }

  // Fresh state for n parameters: square_avg (and momentum_buffer) zeroed, step_count 0.
  void resize(std::size_t n) {
    size_ = n;
    square_avg_.assign(n, T(0));
    momentum_buffer_.assign(options_.momentum > 0.0 ? n : 0, T(0));
    step_count_ = 0;
  }

  // One update of params from grads; segments are not used by RmsProp.
  void step(std::span<T> params, std::span<const T> grads, double lr,
            std::span<const ParameterSegment> = {}) {
    detail::check_optimizer_step("RmsProp", size_, params.size(), grads.size(), lr);
    ++step_count_;
    const std::size_t n = params.size();
    T* w = params.data();
    const T* g = grads.data();
    T* s = square_avg_.data();
    const kernels::RmsPropCoefficients<T> c{T(options_.alpha), T(1.0 - options_.alpha),
                                            T(options_.epsilon), T(-lr), T(options_.momentum)};
    T* buf = options_.momentum > 0.0 ? momentum_buffer_.data() : nullptr;
    kernels::rmsprop_update(w, g, s, buf, n, c);
  }

  std::uint64_t step_count() const { return step_count_; }
  void set_step_count(std::uint64_t k) { step_count_ = k; }

  // {square_avg} or {square_avg, momentum_buffer}, each of size n (PyTorch's state names).
  std::vector<std::span<T>> state_buffers() {
    std::vector<std::span<T>> out{std::span<T>(square_avg_)};
    if (!momentum_buffer_.empty()) out.emplace_back(momentum_buffer_);
    return out;
  }
  std::vector<std::span<const T>> state_buffers() const {
    std::vector<std::span<const T>> out{std::span<const T>(square_avg_)};
    if (!momentum_buffer_.empty()) out.emplace_back(momentum_buffer_);
    return out;
  }
  std::vector<std::string_view> state_names() const {
    if (momentum_buffer_.empty()) return {"square_avg"};
    return {"square_avg", "momentum_buffer"};
  }

 private:
  Options options_;
  std::size_t size_ = 0;
  std::vector<T> square_avg_, momentum_buffer_;
  std::uint64_t step_count_ = 0;
};

static_assert(Optimizer<RmsProp<>>);

}  // namespace ctnn
