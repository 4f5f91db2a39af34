#pragma once
// ctnn::Sgd: stochastic gradient descent with optional (Nesterov) momentum, torch.optim.SGD's
// update with dampening 0 and weight_decay 0 (use a regularizer for decay):
//   buf = momentum * buf + g           (buf starts at 0, so the first step has buf = g)
//   d   = nesterov ? g + momentum * buf : buf      (d = g when momentum == 0)
//   w  -= lr * d
// See docs/optimizers.md.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/train/concepts.hpp"

namespace ctnn {

namespace detail {
template <double Momentum, bool Nesterov>
struct sgd_options {
  double momentum = Momentum;  // in [0, 1); 0 turns momentum off (no state)
  bool nesterov = Nesterov;    // needs momentum > 0
};
}  // namespace detail

// Sgd<Momentum, Nesterov>; the last parameter is the scalar type, set by the Trainer (rebind).
template <double Momentum = 0.0, bool Nesterov = false, class T = float>
class Sgd {
  static_assert(Momentum >= 0.0 && Momentum < 1.0, "Sgd's Momentum must be in [0, 1)");
  static_assert(!Nesterov || Momentum > 0.0,  // PyTorch's rule too
                "Sgd<Momentum, true> (Nesterov) needs Momentum > 0");
  static_assert(std::is_floating_point_v<T>, "Sgd's scalar type must be float or double");

 public:
  static constexpr std::string_view kind = "optimizer";
  using scalar_type = T;
  using Options = detail::sgd_options<Momentum, Nesterov>;
  template <class U>
  using rebind = Sgd<Momentum, Nesterov, U>;

  CTNN_COLD static std::string name() {
    return "Sgd<" + detail::number(Momentum) + ", " + detail::number(Nesterov) + ">";
  }

  Sgd() : Sgd(Options{}) {}
  explicit Sgd(Options options) : options_(options) {
    detail::require(options_.momentum >= 0.0 && options_.momentum < 1.0,
                    "Sgd: momentum must be in [0, 1), got " + detail::number(options_.momentum));
    detail::require(!options_.nesterov || options_.momentum > 0.0,
                    "Sgd: nesterov needs momentum > 0");
  }

  const Options& options() const { return options_; }

  // Fresh state for n parameters: momentum buffer zeroed (none without momentum), step_count 0.
  void resize(std::size_t n) {
    size_ = n;
    momentum_buffer_.assign(options_.momentum > 0.0 ? n : 0, T(0));
    step_count_ = 0;
  }

  // One update of params from grads; segments are not used by Sgd.
  void step(std::span<T> params, std::span<const T> grads, double lr,
            std::span<const ParameterSegment> = {}) {
    detail::check_optimizer_step("Sgd", size_, params.size(), grads.size(), lr);
    ++step_count_;
    const std::size_t n = params.size();
    T* w = params.data();
    const T* g = grads.data();
    const T neg_lr = T(-lr);
    if (options_.momentum == 0.0) {
      for (std::size_t i = 0; i < n; ++i) w[i] += neg_lr * g[i];
      return;
    }
    T* buf = momentum_buffer_.data();
    const T mu = T(options_.momentum);
    if (options_.nesterov) {
      for (std::size_t i = 0; i < n; ++i) {
        buf[i] = buf[i] * mu + g[i];
        w[i] += neg_lr * (g[i] + mu * buf[i]);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        buf[i] = buf[i] * mu + g[i];
        w[i] += neg_lr * buf[i];
      }
    }
  }

  std::uint64_t step_count() const { return step_count_; }
  void set_step_count(std::uint64_t k) { step_count_ = k; }

  // {momentum_buffer} with momentum, {} without; each of size n.
  std::vector<std::span<T>> state_buffers() {
    if (momentum_buffer_.empty()) return {};
    return {std::span<T>(momentum_buffer_)};
  }
  std::vector<std::span<const T>> state_buffers() const {
    if (momentum_buffer_.empty()) return {};
    return {std::span<const T>(momentum_buffer_)};
  }
  std::vector<std::string_view> state_names() const {
    if (momentum_buffer_.empty()) return {};
    return {"momentum_buffer"};
  }

 private:
  Options options_;
  std::size_t size_ = 0;
  std::vector<T> momentum_buffer_;
  std::uint64_t step_count_ = 0;
};

static_assert(Optimizer<Sgd<>>);

}  // namespace ctnn
