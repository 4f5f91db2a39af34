#pragma once
// Device twins of the training policies that touch the parameters: optimizers (Sgd, Adam, AdamW,
// RmsProp) and regularizers (NoRegularizer, L2, L1, WeightDecay, Combine/Both). Each is built
// from the CPU policy's own Options (so cuda::Trainer takes the same PolicyOptions as
// ctnn::Trainer), checks them by constructing the CPU policy, and updates device arrays with the
// launchers of kernels/cuda/kernels.hpp using the CPU formulas. Schedules and stopping rules stay
// on the host: they only see the learning rate and the metrics.
//
//   device_optimizer<P>    resize(n); step(params, grads, n, lr, segments); step_count();
//                          state_names(); download_state() -> one host vector per state buffer
//   device_regularizer<R>  before_step(params, grads, n, lr, segments); after_step(...);
//                          penalty(params, n, segments)
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ctnn/kernels/cuda/kernels.hpp"
#include "ctnn/kernels/cuda/runtime.hpp"
#include "ctnn/train/adam.hpp"
#include "ctnn/train/concepts.hpp"
#include "ctnn/train/regularizers.hpp"
#include "ctnn/train/rmsprop.hpp"
#include "ctnn/train/sgd.hpp"

namespace ctnn::cuda {

namespace detail {
template <class P>
inline constexpr bool no_device_policy = false;

// Device state buffers, each n floats, zeroed.
class DeviceState {
 public:
  void resize(std::size_t buffers, std::size_t n) {
    buffers_.clear();
    buffers_.resize(buffers);
    for (auto& b : buffers_) {
      b.ensure(n);
      b.zero();
    }
    size_ = n;
  }
  float* operator[](std::size_t i) { return buffers_[i].data(); }
  std::size_t size() const { return size_; }
  std::vector<std::vector<float>> download() const {
    std::vector<std::vector<float>> out;
    for (const auto& b : buffers_) {
      out.emplace_back(size_);
      b.download(out.back().data(), size_);
    }
    return out;
  }

 private:
  std::vector<kernels::cuda::DeviceBuffer<float>> buffers_;
  std::size_t size_ = 0;
};

// Calls f(offset, size) for every decaying range, as the CPU policies walk them.
template <class F>
void decayed_ranges(std::span<const ParameterSegment> segments, std::size_t n, bool decay_all,
                    const char* who, F&& f) {
  ctnn::detail::for_each_decayed_range(segments, n, decay_all, who, std::forward<F>(f));
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Optimizers.

// No device version of the optimizer Policy: one error, then a do-nothing stand-in.
template <class Policy>
class device_optimizer {
  static_assert(detail::no_device_policy<Policy>,  // this optimizer has no CUDA version
                "ctnn::cuda::Trainer: this optimizer has no device version; the CUDA backend "
                "runs Sgd, Adam, AdamW and RmsProp (docs/cuda.md)");

 public:
  using Options = typename Policy::Options;
  explicit device_optimizer(Options = {}) {}
  void resize(std::size_t) {}
  void step(float*, const float*, std::size_t, double, std::span<const ParameterSegment> = {}) {}
  std::uint64_t step_count() const { return 0; }
};

// Sgd<Momentum, Nesterov>
template <double Momentum, bool Nesterov, class T>
class device_optimizer<Sgd<Momentum, Nesterov, T>> {
  using cpu = Sgd<Momentum, Nesterov, float>;

 public:
  using Options = typename cpu::Options;
  static std::string name() { return cpu::name(); }
  explicit device_optimizer(Options options = {}) : options_(cpu(options).options()) {}

  void resize(std::size_t n) {
    state_.resize(options_.momentum > 0.0 ? 1 : 0, n);
    size_ = n;
    step_count_ = 0;
  }
  void step(float* params, const float* grads, std::size_t n, double lr,
            std::span<const ParameterSegment> = {}) {
    ctnn::detail::check_optimizer_step("Sgd", size_, n, n, lr);
    ++step_count_;
    kernels::cuda::sgd_step(params, grads, options_.momentum > 0.0 ? state_[0] : nullptr, n, lr,
                            options_.momentum, options_.nesterov);
  }
  std::uint64_t step_count() const { return step_count_; }
  std::vector<std::string_view> state_names() const {
    if (options_.momentum > 0.0) return {"momentum_buffer"};
    return {};
  }
  std::vector<std::vector<float>> download_state() const { return state_.download(); }

 private:
  Options options_;
  detail::DeviceState state_;
  std::size_t size_ = 0;
  std::uint64_t step_count_ = 0;
};

namespace detail {
// Adam's moments and step count, shared by Adam and AdamW.
struct DeviceAdamState {
  DeviceState moments;
  std::size_t size = 0;
  std::uint64_t step_count = 0;
  void resize(std::size_t n) {
    moments.resize(2, n);
    size = n;
    step_count = 0;
  }
  void update(float* w, const float* g, std::size_t n, double lr, double beta1, double beta2,
              double epsilon) {
    ++step_count;
    kernels::cuda::adam_step(w, g, moments[0], moments[1], n, lr, beta1, beta2, epsilon, step_count);
  }
};
}  // namespace detail

// Adam<Beta1, Beta2, Epsilon>
template <double Beta1, double Beta2, double Epsilon, class T>
class device_optimizer<Adam<Beta1, Beta2, Epsilon, T>> {
  using cpu = Adam<Beta1, Beta2, Epsilon, float>;

 public:
  using Options = typename cpu::Options;
  static std::string name() { return cpu::name(); }
  explicit device_optimizer(Options options = {}) : options_(cpu(options).options()) {}

  void resize(std::size_t n) { state_.resize(n); }
  void step(float* params, const float* grads, std::size_t n, double lr,
            std::span<const ParameterSegment> = {}) {
    ctnn::detail::check_optimizer_step("Adam", state_.size, n, n, lr);
    state_.update(params, grads, n, lr, options_.beta1, options_.beta2, options_.epsilon);
  }
  std::uint64_t step_count() const { return state_.step_count; }
  std::vector<std::string_view> state_names() const { return {"exp_avg", "exp_avg_sq"}; }
  std::vector<std::vector<float>> download_state() const { return state_.moments.download(); }

 private:
  Options options_;
  detail::DeviceAdamState state_;
};

// AdamW<Beta1, Beta2, Epsilon, Decay>: w *= 1 - lr * decay on the decaying segments, then Adam.
template <double Beta1, double Beta2, double Epsilon, double Decay, class T>
class device_optimizer<AdamW<Beta1, Beta2, Epsilon, Decay, T>> {
  using cpu = AdamW<Beta1, Beta2, Epsilon, Decay, float>;

 public:
  using Options = typename cpu::Options;
  static std::string name() { return cpu::name(); }
  explicit device_optimizer(Options options = {}) : options_(cpu(options).options()) {}

  void resize(std::size_t n) { state_.resize(n); }
  void step(float* params, const float* grads, std::size_t n, double lr,
            std::span<const ParameterSegment> segments = {}) {
    ctnn::detail::check_optimizer_step("AdamW", state_.size, n, n, lr);
    const float shrink = float(1.0 - lr * options_.decay);
    detail::decayed_ranges(segments, n, options_.decay_all, "AdamW::step",
                           [&](std::size_t offset, std::size_t size) {
                             kernels::cuda::scale(params + offset, size, shrink);
                           });
    state_.update(params, grads, n, lr, options_.beta1, options_.beta2, options_.epsilon);
  }
  std::uint64_t step_count() const { return state_.step_count; }
  std::vector<std::string_view> state_names() const { return {"exp_avg", "exp_avg_sq"}; }
  std::vector<std::vector<float>> download_state() const { return state_.moments.download(); }

 private:
  Options options_;
  detail::DeviceAdamState state_;
};

// RmsProp<Alpha, Epsilon, Momentum>
template <double Alpha, double Epsilon, double Momentum, class T>
class device_optimizer<RmsProp<Alpha, Epsilon, Momentum, T>> {
  using cpu = RmsProp<Alpha, Epsilon, Momentum, float>;

 public:
  using Options = typename cpu::Options;
  static std::string name() { return cpu::name(); }
  explicit device_optimizer(Options options = {}) : options_(cpu(options).options()) {}

  void resize(std::size_t n) {
    state_.resize(options_.momentum > 0.0 ? 2 : 1, n);
    size_ = n;
    step_count_ = 0;
  }
  void step(float* params, const float* grads, std::size_t n, double lr,
            std::span<const ParameterSegment> = {}) {
    ctnn::detail::check_optimizer_step("RmsProp", size_, n, n, lr);
    ++step_count_;
    kernels::cuda::rmsprop_step(params, grads, state_[0],
                                options_.momentum > 0.0 ? state_[1] : nullptr, n, lr,
                                options_.alpha, options_.epsilon, options_.momentum);
  }
  std::uint64_t step_count() const { return step_count_; }
  std::vector<std::string_view> state_names() const {
    if (options_.momentum > 0.0) return {"square_avg", "momentum_buffer"};
    return {"square_avg"};
  }
  std::vector<std::vector<float>> download_state() const { return state_.download(); }

 private:
  Options options_;
  detail::DeviceState state_;
  std::size_t size_ = 0;
  std::uint64_t step_count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Regularizers.

// No device version of the regularizer Policy: one error, then a do-nothing stand-in.
template <class Policy>
class device_regularizer {
  static_assert(detail::no_device_policy<Policy>,  // this regularizer has no CUDA version
                "ctnn::cuda::Trainer: this regularizer has no device version; the CUDA backend "
                "runs NoRegularizer, L2, L1, WeightDecay and Combine/Both of them (docs/cuda.md)");

 public:
  using Options = typename Policy::Options;
  explicit device_regularizer(Options = {}) {}
  void before_step(float*, float*, std::size_t, double, std::span<const ParameterSegment>) {}
  void after_step(float*, std::size_t, double, std::span<const ParameterSegment>) {}
  double penalty(const float*, std::size_t, std::span<const ParameterSegment>) const { return 0.0; }
};

template <>
class device_regularizer<NoRegularizer> {
 public:
  using Options = NoRegularizer::Options;
  explicit device_regularizer(Options = {}) {}
  void before_step(float*, float*, std::size_t, double, std::span<const ParameterSegment>) {}
  void after_step(float*, std::size_t, double, std::span<const ParameterSegment>) {}
  double penalty(const float*, std::size_t, std::span<const ParameterSegment>) const { return 0.0; }
};

// L2<Lambda>: grad += lambda w; penalty lambda / 2 sum w^2.
template <double Lambda>
class device_regularizer<L2<Lambda>> {
 public:
  using Options = typename L2<Lambda>::Options;
  explicit device_regularizer(Options options = {}) : options_(L2<Lambda>(options).options()) {}
  void before_step(float* params, float* grads, std::size_t n, double,
                   std::span<const ParameterSegment> segments) {
    detail::decayed_ranges(segments, n, options_.decay_all, "L2", [&](std::size_t o, std::size_t s) {
      kernels::cuda::add_scaled(params + o, grads + o, s, float(options_.lambda));
    });
  }
  void after_step(float*, std::size_t, double, std::span<const ParameterSegment>) {}
  double penalty(const float* params, std::size_t n, std::span<const ParameterSegment> segments) const {
    double sum = 0.0;
    detail::decayed_ranges(segments, n, options_.decay_all, "L2", [&](std::size_t o, std::size_t s) {
      sum += kernels::cuda::sum_of_squares(params + o, s);
    });
    return 0.5 * options_.lambda * sum;
  }

 private:
  Options options_;
};

// L1<Lambda>: grad += lambda sign(w); penalty lambda sum |w|.
template <double Lambda>
class device_regularizer<L1<Lambda>> {
 public:
  using Options = typename L1<Lambda>::Options;
  explicit device_regularizer(Options options = {}) : options_(L1<Lambda>(options).options()) {}
  void before_step(float* params, float* grads, std::size_t n, double,
                   std::span<const ParameterSegment> segments) {
    detail::decayed_ranges(segments, n, options_.decay_all, "L1", [&](std::size_t o, std::size_t s) {
      kernels::cuda::add_scaled_sign(params + o, grads + o, s, float(options_.lambda));
    });
  }
  void after_step(float*, std::size_t, double, std::span<const ParameterSegment>) {}
  double penalty(const float* params, std::size_t n, std::span<const ParameterSegment> segments) const {
    double sum = 0.0;
    detail::decayed_ranges(segments, n, options_.decay_all, "L1", [&](std::size_t o, std::size_t s) {
      sum += kernels::cuda::sum_of_abs(params + o, s);
    });
    return options_.lambda * sum;
  }

 private:
  Options options_;
};

// WeightDecay<Lambda>: w *= 1 - lr lambda before the optimizer; no penalty.
template <double Lambda>
class device_regularizer<WeightDecay<Lambda>> {
 public:
  using Options = typename WeightDecay<Lambda>::Options;
  explicit device_regularizer(Options options = {})
      : options_(WeightDecay<Lambda>(options).options()) {}
  void before_step(float* params, float*, std::size_t n, double lr,
                   std::span<const ParameterSegment> segments) {
    const float shrink = float(1.0 - lr * options_.lambda);
    detail::decayed_ranges(segments, n, options_.decay_all, "WeightDecay",
                           [&](std::size_t o, std::size_t s) { kernels::cuda::scale(params + o, s, shrink); });
  }
  void after_step(float*, std::size_t, double, std::span<const ParameterSegment>) {}
  double penalty(const float*, std::size_t, std::span<const ParameterSegment>) const { return 0.0; }

 private:
  Options options_;
};

// Combine<Rs...> / Both<R1, R2>: each in turn; penalties add up.
template <class... Rs>
class device_regularizer<Combine<Rs...>> {
 public:
  using Options = typename Combine<Rs...>::Options;
  device_regularizer() = default;
  explicit device_regularizer(Options options)
      : parts_(std::apply([](const auto&... o) { return parts_type(device_regularizer<Rs>(o)...); },
                          options)) {}
  void before_step(float* params, float* grads, std::size_t n, double lr,
                   std::span<const ParameterSegment> segments) {
    std::apply([&](auto&... r) { (r.before_step(params, grads, n, lr, segments), ...); }, parts_);
  }
  void after_step(float* params, std::size_t n, double lr, std::span<const ParameterSegment> segments) {
    std::apply([&](auto&... r) { (r.after_step(params, n, lr, segments), ...); }, parts_);
  }
  double penalty(const float* params, std::size_t n, std::span<const ParameterSegment> segments) const {
    return std::apply([&](const auto&... r) { return (0.0 + ... + r.penalty(params, n, segments)); },
                      parts_);
  }

 private:
  using parts_type = std::tuple<device_regularizer<Rs>...>;
  parts_type parts_;
};

}  // namespace ctnn::cuda
