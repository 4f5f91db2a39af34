#pragma once
// Net<Input<...>, Layers...>: a network as a typed layer list. Every link is checked at compile
// time (see shape/diagnostics.hpp and docs/errors.md); the shapes, the parameter count and every
// buffer size follow from the type. The batch is the only runtime dimension.
//
//   using Model = Net<Input<1, 28, 28>, Conv<32, 3>, Relu, MaxPool<2>, Flatten, Dense<10>>;
//   Model net{42};                      // deterministic initialisation from the seed
//   auto y = net.forward(x);            // inference: x (batch,1,28,28) => y (batch,10)
//
// Training passes: forward_train(x, batch) then backward(dy) fill gradients(); the trainer uses
// them. All parameters live in one flat array (parameters()), all gradients in another.
#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "ctnn/config.hpp"
#include "ctnn/error.hpp"
#include "ctnn/layers/input.hpp"
#include "ctnn/layers/sequence.hpp"
#include "ctnn/net/parameter_segment.hpp"
#include "ctnn/random.hpp"

namespace ctnn {

namespace detail {
template <class First>
consteval Rule first_rule() {
  if constexpr (!is_input<First>::value)
    return Rule::first_is_not_input;
  else
    return First::check();
}

template <class First, bool = first_rule<First>() == Rule::ok &&
                              report<first_rule<First>(), 0, First, InvalidShape>()>
struct input_shape_of {
  using type = InvalidShape;
};
template <class First>
struct input_shape_of<First, true> {
  using type = typename First::shape;
};

struct NoRuntime {};  // stands in for the layers of a rejected Net

// 1234567 -> "1,234,567".
CTNN_COLD inline std::string with_commas(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// Network::summary's table from its rows (layer, output shape, parameters): written once, not
// once per network type.
CTNN_COLD inline std::string summary_table(const std::vector<std::array<std::string, 3>>& rows,
                                           std::size_t parameters, std::size_t activations) {
  std::size_t w0 = 12, w1 = 12;
  for (auto& r : rows) w0 = std::max(w0, r[0].size()), w1 = std::max(w1, r[1].size());
  std::string out;
  const auto line = [&](char c) {
    out.append(w0 + w1 + 16, c);
    out += '\n';
  };
  const auto cell = [&](std::string_view s, std::size_t w) {
    out += s;
    out.append(w - s.size() + 2, ' ');
  };
  line('-');
  cell("Layer", w0);
  cell("Output shape", w1);
  out += "Param #\n";
  line('=');
  for (auto& r : rows) {
    cell(r[0], w0);
    cell(r[1], w1);
    out += r[2];
    out += '\n';
  }
  line('=');
  out += "Total params: ";
  out += with_commas(parameters);
  out += "\nActivations per sample: ";
  out += with_commas(activations);
  out += " values\n";
  line('-');
  return out;
}
}  // namespace detail

template <class T, class First, class... Layers>
class Network {
 public:
  using scalar_type = T;
  using input_shape = typename detail::input_shape_of<First>::type;
  using output_shape = chain_output<input_shape, Layers...>;
  static constexpr bool valid = !std::is_same_v<output_shape, InvalidShape>;
  static constexpr std::size_t layer_count = sizeof...(Layers);

 private:
  using Layers_ = std::conditional_t<valid, Sequence<T, input_shape, Layers...>, detail::NoRuntime>;
  template <class S = Layers_>
  static constexpr std::size_t count(bool buffers) {
    if constexpr (valid) return buffers ? S::buffer_count : S::parameter_count;
    else return 0;
  }

 public:
  static constexpr std::size_t parameter_count = count(false);
  static constexpr std::size_t buffer_count = count(true);

  // The same layers over another scalar type (double for gradient checks).
  template <class U>
  using rebind = Network<U, First, Layers...>;

  explicit Network(std::uint64_t seed = 0)
      : parameters_(parameter_count), gradients_(parameter_count), buffers_(buffer_count), rng_(seed) {
    if constexpr (valid) {
      bind();
      layers_.initialize(rng_);
    }
  }
  Network(const Network& other)
      : parameters_(other.parameters_), gradients_(other.gradients_), buffers_(other.buffers_),
        rng_(other.rng_) {
    if constexpr (valid) bind();
  }
  Network& operator=(const Network& other) {
    if (this != &other) {
      std::copy(other.parameters_.begin(), other.parameters_.end(), parameters_.begin());
      std::copy(other.gradients_.begin(), other.gradients_.end(), gradients_.begin());
      std::copy(other.buffers_.begin(), other.buffers_.end(), buffers_.begin());
      rng_ = other.rng_;
    }
    return *this;
  }
  // Moves keep the vectors' storage, so the layers' views stay valid; rebinding makes sure.
  Network(Network&& other) noexcept
      : parameters_(std::move(other.parameters_)), gradients_(std::move(other.gradients_)),
        buffers_(std::move(other.buffers_)), rng_(other.rng_) {
    if constexpr (valid) bind();
  }
  Network& operator=(Network&& other) noexcept { return *this = static_cast<const Network&>(other); }

  // Inference on a (batch, input dims...) tensor; returns (batch, output dims...).
  xt::xtensor<T, output_shape::rank + 1> forward(const xt::xtensor<T, input_shape::rank + 1>& x) {
    const std::size_t batch = x.shape()[0];
    for (std::size_t d = 0; d < input_shape::rank; ++d)
      if (x.shape()[d + 1] != input_shape::dims[d])
        throw ConfigError("Net::forward: expected input of shape " +
                          batch_shape_name<input_shape>() + ", got " + runtime_shape_name(x));
    std::array<std::size_t, output_shape::rank + 1> shape{batch};
    std::copy(output_shape::dims.begin(), output_shape::dims.end(), shape.begin() + 1);
    xt::xtensor<T, output_shape::rank + 1> y(shape);
    const T* out = predict(x.data(), batch);
    std::copy(out, out + batch * output_shape::size, y.data());
    return y;
  }

  // Inference on raw memory: x (batch x input size) => pointer to (batch x output size), valid
  // until the next pass.
  const T* predict(const T* x, std::size_t batch) { return run(x, batch, Mode::inference); }

  // Training-mode forward (Dropout drops, BatchNorm uses batch statistics). x must stay alive
  // until backward.
  const T* forward_train(const T* x, std::size_t batch) { return run(x, batch, Mode::training); }

  // After forward_train: doutput (batch x output size) => gradients() (overwritten) and, when
  // dinput is given, the gradient with respect to the input.
  void backward(const T* doutput, T* dinput = nullptr) {
    if constexpr (valid) layers_.backward(last_input_, output_.data(), doutput, dinput, last_batch_);
  }

  std::span<T> parameters() { return parameters_; }
  std::span<const T> parameters() const { return parameters_; }
  std::span<T> gradients() { return gradients_; }
  std::span<const T> gradients() const { return gradients_; }
  // Non-trainable state saved with the weights (BatchNorm running statistics).
  std::span<T> buffers() { return buffers_; }
  std::span<const T> buffers() const { return buffers_; }

  Rng& rng() { return rng_; }

  static const std::vector<ParameterSegment>& parameter_segments() {
    static const std::vector<ParameterSegment> segments = [] {
      std::vector<ParameterSegment> out;
      if constexpr (valid) {
        const auto names = Layers_::layer_names();
        for (const auto& [index, s] : Layers_::segments())
          out.push_back({index + 1, names[index], s.name, s.offset, s.size, s.decay});
      }
      return out;
    }();
    return segments;
  }

  // The architecture as text: every layer and the shape it produces. Saved files carry it, so
  // weights cannot be loaded into another architecture.
  CTNN_COLD static std::string signature() {
    std::string out = First::name();
    if constexpr (valid) {
      std::size_t i = 0;
      const auto names = Layers_::layer_names();
      for_each_shape([&]<class S>() { out += "|" + names[i++] + "->" + shape_name<S>(); });
    }
    return out;
  }

  // A Keras-like table: layer, output shape, parameters, total.
  CTNN_COLD static std::string summary() {
    std::vector<std::array<std::string, 3>> rows{{First::name(), batch_shape_name<input_shape>(), "0"}};
    if constexpr (valid) {
      const auto names = Layers_::layer_names();
      std::vector<std::size_t> counts(layer_count, 0);
      for (const auto& s : parameter_segments()) counts[s.layer_index - 1] += s.size;
      std::size_t i = 0;
      for_each_shape([&]<class S>() {
        rows.push_back({names[i], batch_shape_name<S>(), detail::with_commas(counts[i])});
        ++i;
      });
    }
    return detail::summary_table(rows, parameter_count, activation_count());
  }

 private:
  void bind() { layers_.bind(parameters_.data(), gradients_.data(), buffers_.data()); }

  const T* run(const T* x, std::size_t batch, Mode mode) {
    if constexpr (valid) {
      detail::ensure_size(output_, batch * output_shape::size);
      layers_.forward(x, output_.data(), batch, mode, rng_);
      last_input_ = x;
      last_batch_ = batch;
    }
    return output_.data();
  }

  template <class F>
  static void for_each_shape(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<typename Layers_::template shape_at<I + 1>>(), ...);
    }(std::make_index_sequence<layer_count>{});
  }

  static std::size_t activation_count() {
    std::size_t total = input_shape::size;
    if constexpr (valid) for_each_shape([&]<class S>() { total += S::size; });
    return total;
  }

  template <class X>
  static std::string runtime_shape_name(const X& x) {
    std::string out = "(";
    for (std::size_t d = 0; d < x.dimension(); ++d) out += (d ? ", " : "") + std::to_string(x.shape()[d]);
    return out + ")";
  }

  std::vector<T> parameters_, gradients_, buffers_;
  Rng rng_;
  Layers_ layers_;
  std::vector<T> output_;
  const T* last_input_ = nullptr;
  std::size_t last_batch_ = 0;
};

// The network type users write: float parameters. Model::rebind<double> for checking.
template <class First, class... Layers>
class Net : public Network<float, First, Layers...> {
 public:
  using Network<float, First, Layers...>::Network;
};

}  // namespace ctnn
