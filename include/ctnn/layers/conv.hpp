#pragma once
// Conv<Filters, Kernel, Stride = 1, Padding = 0>: 2-D convolution with a square kernel.
// Requires a C,H,W input whose padded size fits the kernel; ensures an output
// (Filters, floor((H + 2P - K) / S) + 1, floor((W + 2P - K) / S) + 1), as PyTorch.
// Parameters: weight (Filters, C, K, K) then bias (Filters).
#include <cstddef>
#include <string>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/layers/layer.hpp"

namespace ctnn {

template <std::size_t Filters, std::size_t Kernel, std::size_t Stride = 1, std::size_t Padding = 0>
struct Conv : LayerSpecBase {
  static constexpr bool has_relu_epilogue = true;  // layer::forward_relu
  static std::string name() { return detail::template_name("Conv", Filters, Kernel, Stride, Padding); }

  template <class In>
  static constexpr Rule check() {
    if (Filters == 0 || Kernel == 0 || Stride == 0) return Rule::zero_hyperparameter;
    if constexpr (!ImageShape<In>) {
      return Rule::needs_image_input;
    } else {
      if (window_output(In::dims[1], Kernel, Stride, Padding) == 0 ||
          window_output(In::dims[2], Kernel, Stride, Padding) == 0)
        return Rule::window_larger_than_input;
      return Rule::ok;
    }
  }

  template <class In>
  static constexpr kernels::ConvGeometry geometry{
      In::dims[0], In::dims[1], In::dims[2], Filters, Kernel, Stride, Padding,
      window_output(In::dims[1], Kernel, Stride, Padding),
      window_output(In::dims[2], Kernel, Stride, Padding)};

  template <class In>
  using output_shape = Shape<Filters, geometry<In>.out_height, geometry<In>.out_width>;

  template <class In, class T>
  class layer {
    static constexpr kernels::ConvGeometry G = geometry<In>;
    static constexpr std::size_t weight_count = G.filters * G.patch_size();

   public:
    static constexpr std::size_t parameter_count = weight_count + Filters;
    static constexpr std::size_t buffer_count = 0;
    static std::vector<SegmentInfo> segments() {
      return {{"weight", 0, weight_count, true}, {"bias", weight_count, Filters, false}};
    }

    void bind(T* params, T* grads, T*) {
      w_ = params, b_ = params + weight_count;
      dw_ = grads, db_ = grads + weight_count;
    }
    void initialize(Rng& rng) {
      detail::fan_in_uniform(rng, w_, weight_count, G.patch_size());
      detail::fan_in_uniform(rng, b_, Filters, G.patch_size());
    }
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::conv2d_forward<G>(x, w_, b_, y, batch, workspace_);
    }
    // forward, then Relu on the output (Sequence calls it for Conv, Relu when the Relu runs in
    // place; the Relu layer's own forward is then skipped).
    void forward_relu(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::conv2d_forward<G, true>(x, w_, b_, y, batch, workspace_);
    }
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch) {
      kernels::conv2d_backward<G>(x, w_, dy, dx, dw_, db_, batch, workspace_);
    }

   private:
    T *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
    kernels::conv_workspace<T> workspace_;  // im2col bands and gradient partials, per thread
  };
};

}  // namespace ctnn
