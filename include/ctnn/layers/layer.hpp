#pragma once
// What every layer shares: the LayerSpec concept Net checks its arguments against, the runtime
// mode, the description of a layer's parameter segments, and helpers for spelling names.
#include <cstddef>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/random.hpp"
#include "ctnn/shape/diagnostics.hpp"
#include "ctnn/shape/shape.hpp"

namespace ctnn {

// Inference: Dropout is the identity, BatchNorm uses running statistics.
// Training: Dropout drops, BatchNorm uses batch statistics and updates the running ones.
enum class Mode { inference, training };

// Marks a type as a layer spec (the type a user writes in Net<...>).
struct LayerSpecBase {
  // Whether backward reads the layer's own output (Sigmoid, Tanh): then no later layer may
  // overwrite that output in place.
  static constexpr bool backward_reads_output = false;
  // Whether the layer may write its output over its input (Relu: its backward needs only the
  // sign of the input, which the output keeps). Sequence decides when it actually does.
  static constexpr bool runs_in_place = false;
  // Whether the layer can apply a Relu to its own output (layer::forward_relu), so that a
  // following in-place Relu costs nothing in forward.
  static constexpr bool has_relu_epilogue = false;
  static constexpr bool is_relu = false;  // (only Relu: what such an epilogue computes)
  // Whether the layer's backward can also apply the derivative of an in-place Relu before it
  // (layer::backward_through_relu), so that Relu costs nothing in backward.
  static constexpr bool has_backward_through_relu = false;
  // Whether backward reads the layer's input (most layers). Pooling does not (max pooling keeps
  // its winners): then the input need not be kept for backward (Sequence reuses its memory).
  static constexpr bool backward_reads_input = true;
};

template <class L>
concept LayerSpec = std::is_base_of_v<LayerSpecBase, L>;

// One contiguous run of a layer's parameters, offsets relative to the layer.
struct SegmentInfo {
  std::string name;  // "weight", "bias", "gamma", "beta"
  std::size_t offset = 0;
  std::size_t size = 0;
  bool decay = true;  // false for biases and BatchNorm parameters
};

namespace detail {
// Shape rules shared by every elementwise layer: any input, the same shape out.
struct Elementwise : LayerSpecBase {
  template <class In>
  static constexpr Rule check() { return Rule::ok; }
  template <class In>
  using output_shape = In;
};
}  // namespace detail

// Runtime base of layers without parameters or buffers.
template <class T>
struct ParameterFree {
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t buffer_count = 0;
  static std::vector<SegmentInfo> segments() { return {}; }
  void bind(T*, T*, T*) {}
  void initialize(Rng&) {}
};

namespace detail {
// "0.5", "0.01": the shortest round-tripping spelling of a double template argument.
inline std::string format_number(double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

template <class... Values>
std::string template_name(const char* base, Values... values) {
  std::string out = base;
  out += '<';
  auto append = [&out](auto value) {
    if (out.back() != '<') out += ", ";
    if constexpr (std::is_floating_point_v<decltype(value)>)
      out += format_number(value);
    else
      out += std::to_string(value);
  };
  (append(values), ...);
  return out + '>';
}

// Grows a cache only when the batch grows, so steady-state steps never allocate.
template <class V>
void ensure_size(V& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

// PyTorch's default initialisation for Conv and Dense: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
// both weights and biases (kaiming_uniform with a = sqrt(5)).
template <class T>
void fan_in_uniform(Rng& rng, T* values, std::size_t count, std::size_t fan_in) {
  const double bound = 1.0 / std::sqrt(double(fan_in));
  for (std::size_t i = 0; i < count; ++i) values[i] = T(rng.uniform(-bound, bound));
}
}  // namespace detail

}  // namespace ctnn
