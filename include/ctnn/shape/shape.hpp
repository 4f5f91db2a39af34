#pragma once
// Shape<D...>: a per-sample tensor shape as a type. The batch is the only runtime dimension,
// so everything here is static: rank, size and dims are compile-time constants.
#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

namespace ctnn {

template <std::size_t... D>
struct Shape {
  static constexpr std::size_t rank = sizeof...(D);
  static constexpr std::size_t size = (std::size_t{1} * ... * D);
  static constexpr std::array<std::size_t, rank> dims{D...};
};

// The shape a link yields after it was rejected: every later layer accepts it silently, so one
// mistake gives one error instead of a cascade.
struct InvalidShape {
  static constexpr std::size_t rank = 0;
  static constexpr std::size_t size = 0;
  static constexpr std::array<std::size_t, 0> dims{};
};

namespace detail {
template <class S>
struct is_shape : std::false_type {};
template <std::size_t... D>
struct is_shape<Shape<D...>> : std::true_type {};
}  // namespace detail

template <class S>
concept AShape = detail::is_shape<S>::value;

// Shape<C, H, W>: the shape convolution and pooling need.
template <class S>
concept ImageShape = AShape<S> && S::rank == 3;

// Shape<N>: the shape Dense needs.
template <class S>
concept FlatShape = AShape<S> && S::rank == 1;

namespace detail {
// The text of shape_name / batch_shape_name, written once (not once per shape type).
inline std::string dims_text(const char* open, const std::size_t* dims, std::size_t rank,
                             bool leading_comma, const char* close) {
  std::string out = open;
  for (std::size_t i = 0; i < rank; ++i) {
    if (i || leading_comma) out += ", ";
    out += std::to_string(dims[i]);
  }
  out += close;
  return out;
}
}  // namespace detail

// "Shape<32, 26, 26>", for summaries and signatures.
template <class S>
std::string shape_name() {
  if constexpr (std::is_same_v<S, InvalidShape>) {
    return "InvalidShape";
  } else {
    return detail::dims_text("Shape<", S::dims.data(), S::rank, false, ">");
  }
}

// "(None, 32, 26, 26)": the Keras spelling, with the runtime batch first.
template <class S>
std::string batch_shape_name() {
  return detail::dims_text("(batch", S::dims.data(), S::rank, true, ")");
}

// Output size of a convolution or pooling window along one axis, PyTorch's floor rule.
// Returns 0 when the window does not fit, which the layers report as an error.
constexpr std::size_t window_output(std::size_t input, std::size_t window, std::size_t stride,
                                    std::size_t padding) {
  const std::size_t padded = input + 2 * padding;
  return (stride == 0 || window > padded) ? 0 : (padded - window) / stride + 1;
}

}  // namespace ctnn
