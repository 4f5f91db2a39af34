#pragma once
// Dense<Units>: fully connected layer, y = x W^T + b.
// Requires a flat input Shape<N> (insert Flatten after convolutions); ensures Shape<Units>.
// Parameters: weight (Units, N) then bias (Units).
#include <cstddef>
#include <string>
#include <vector>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/layers/layer.hpp"

namespace ctnn {

template <std::size_t Units>
struct Dense : LayerSpecBase {
  static std::string name() { return detail::template_name("Dense", Units); }

  template <class In>
  static constexpr Rule check() {
    if (Units == 0) return Rule::zero_hyperparameter;
    return FlatShape<In> ? Rule::ok : Rule::dense_needs_flat_input;
  }

  template <class In>
  using output_shape = Shape<Units>;

  template <class In, class T>
  class layer {
    static constexpr std::size_t inputs = In::size;
    static constexpr std::size_t weight_count = Units * inputs;

   public:
    static constexpr std::size_t parameter_count = weight_count + Units;
    static constexpr std::size_t buffer_count = 0;
    static std::vector<SegmentInfo> segments() {
      return {{"weight", 0, weight_count, true}, {"bias", weight_count, Units, false}};
    }

    void bind(T* params, T* grads, T*) {
      w_ = params, b_ = params + weight_count;
      dw_ = grads, db_ = grads + weight_count;
    }
    void initialize(Rng& rng) {
      detail::fan_in_uniform(rng, w_, weight_count, inputs);
      detail::fan_in_uniform(rng, b_, Units, inputs);
    }
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::dense_forward(x, w_, b_, y, batch, inputs, Units);
    }
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch) {
      kernels::dense_backward(x, w_, dy, dx, dw_, db_, batch, inputs, Units);
    }

   private:
    T *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
  };
};

}  // namespace ctnn
