#pragma once
// Compile-time diagnostics. A layer's check<In>() returns the first Rule its input breaks; the Net
// then instantiates the matching error template below, whose template arguments carry the
// layer's position, the layer and the shape it received, so g++ prints all three in the first
// line of the error. docs/errors.md explains each id.
#include <cstddef>

#include "ctnn/shape/shape.hpp"

namespace ctnn {

enum class Rule {
  ok,
  first_is_not_input,           // CTNN-E001
  not_a_layer,                  // CTNN-E002
  dense_needs_flat_input,       // CTNN-E003
  needs_image_input,            // CTNN-E004
  window_larger_than_input,     // CTNN-E005
  residual_changes_shape,       // CTNN-E006
  zero_hyperparameter,          // CTNN-E007
  dropout_probability_invalid,  // CTNN-E008
  input_dimension_zero,         // CTNN-E009
};

// Wrappers that make the error's template arguments read as a sentence.
template <std::size_t Position>
struct at_position {};
template <class S>
struct received {};
template <class S>
struct branch_output {};

namespace detail {
template <class... T>
inline constexpr bool reject = false;
}  // namespace detail

namespace error {
// Each template is instantiated only for a broken link; its static_assert is the message.
template <class Position, class Layer, class Received>
struct first_argument_is_not_an_Input {
  static_assert(detail::reject<Layer>,
                "[CTNN-E001] Net must start with ctnn::Input<C, H, W> or ctnn::Input<N>");
};
template <class Position, class Layer, class Received>
struct not_a_layer {
  static_assert(detail::reject<Layer>,
                "[CTNN-E002] this type is not a ctnn layer: use Conv, Dense, Relu, ... (see docs/errors.md)");
};
template <class Position, class Layer, class Received>
struct Dense_needs_a_flat_input {
  static_assert(detail::reject<Layer>,
                "[CTNN-E003] Dense needs a flat input: insert ctnn::Flatten before it");
};
template <class Position, class Layer, class Received>
struct layer_needs_a_C_H_W_input {
  static_assert(detail::reject<Layer>,
                "[CTNN-E004] this layer needs a C,H,W input: remove the Flatten/Dense before it or use Input<C, H, W>");
};
template <class Position, class Layer, class Received>
struct window_larger_than_input {
  static_assert(detail::reject<Layer>,
                "[CTNN-E005] kernel/window is larger than the (padded) input, so the output would be empty: use a smaller kernel, add padding, or remove a pooling layer");
};
template <class Position, class Layer, class Received, class BranchOutput>
struct Residual_branch_changes_the_shape {
  static_assert(detail::reject<Layer>,
                "[CTNN-E006] a Residual branch must return the shape it received (y = x + f(x)): use padding 1 with 3x3 kernels and keep the number of channels");
};
template <class Position, class Layer, class Received>
struct hyperparameter_is_zero {
  static_assert(detail::reject<Layer>,
                "[CTNN-E007] filters, units, kernel, window and stride must be at least 1");
};
template <class Position, class Layer, class Received>
struct Dropout_probability_outside_0_1 {
  static_assert(detail::reject<Layer>,
                "[CTNN-E008] Dropout<P> needs 0 <= P < 1 (P is the probability of dropping a unit)");
};
template <class Position, class Layer, class Received>
struct Input_dimension_is_zero {
  static_assert(detail::reject<Layer>,
                "[CTNN-E009] every dimension of Input<...> must be at least 1");
};
}  // namespace error

namespace detail {
// Instantiates the error for rule R (nothing for Rule::ok); always returns true so it can sit
// inside a constant expression that the link needs anyway.
template <Rule R, std::size_t I, class Layer, class In>
constexpr bool report() {
  using P = at_position<I>;
  using S = received<In>;
  if constexpr (R == Rule::first_is_not_input)
    return sizeof(error::first_argument_is_not_an_Input<P, Layer, S>) > 0;
  else if constexpr (R == Rule::not_a_layer)
    return sizeof(error::not_a_layer<P, Layer, S>) > 0;
  else if constexpr (R == Rule::dense_needs_flat_input)
    return sizeof(error::Dense_needs_a_flat_input<P, Layer, S>) > 0;
  else if constexpr (R == Rule::needs_image_input)
    return sizeof(error::layer_needs_a_C_H_W_input<P, Layer, S>) > 0;
  else if constexpr (R == Rule::window_larger_than_input)
    return sizeof(error::window_larger_than_input<P, Layer, S>) > 0;
  else if constexpr (R == Rule::residual_changes_shape)
    return sizeof(error::Residual_branch_changes_the_shape<
                  P, Layer, S, branch_output<typename Layer::template branch_shape<In>>>) > 0;
  else if constexpr (R == Rule::zero_hyperparameter)
    return sizeof(error::hyperparameter_is_zero<P, Layer, S>) > 0;
  else if constexpr (R == Rule::dropout_probability_invalid)
    return sizeof(error::Dropout_probability_outside_0_1<P, Layer, S>) > 0;
  else if constexpr (R == Rule::input_dimension_zero)
    return sizeof(error::Input_dimension_is_zero<P, Layer, S>) > 0;
  else
    return true;
}
}  // namespace detail

}  // namespace ctnn
