#pragma once
// Input<D...>: the per-sample shape a Net receives, C,H,W for images or N for flat data. It must
// come first in the list; it holds no parameters and does no work.
#include <cstddef>
#include <string>

#include "ctnn/layers/layer.hpp"

namespace ctnn {

template <std::size_t... D>
struct Input {
  using shape = Shape<D...>;
  static std::string name() { return detail::template_name("Input", D...); }
  static constexpr Rule check() {
    return (sizeof...(D) > 0 && ((D > 0) && ...)) ? Rule::ok : Rule::input_dimension_zero;
  }
};

namespace detail {
template <class L>
struct is_input : std::false_type {};
template <std::size_t... D>
struct is_input<Input<D...>> : std::true_type {};
}  // namespace detail

}  // namespace ctnn
