#pragma once
// Flatten: C,H,W (or any shape) => Shape<C*H*W>. The memory layout is already flat, so forward
// and backward are copies.
#include <algorithm>
#include <cstddef>
#include <string>

#include "ctnn/layers/layer.hpp"

namespace ctnn {

struct Flatten : LayerSpecBase {
  static std::string name() { return "Flatten"; }

  template <class In>
  static constexpr Rule check() { return Rule::ok; }

  template <class In>
  using output_shape = Shape<In::size>;

  template <class In, class T>
  struct layer : ParameterFree<T> {
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      std::copy(x, x + batch * In::size, y);
    }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch) {
      if (dx) std::copy(dy, dy + batch * In::size, dx);
    }
  };
};

}  // namespace ctnn
