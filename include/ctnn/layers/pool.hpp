#pragma once
// Pooling over C,H,W inputs. MaxPool<Window, Stride = Window> and AvgPool<Window, Stride = Window>
// give (C, floor((H - Window) / Stride) + 1, ...) as PyTorch without padding; GlobalAvgPool
// averages each channel: (C,H,W) => Shape<C>. No parameters.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/layers/layer.hpp"

namespace ctnn {

namespace detail {
// Shape rules shared by MaxPool and AvgPool.
template <std::size_t Window, std::size_t Stride>
struct WindowPool : LayerSpecBase {
  template <class In>
  static constexpr Rule check() {
    if (Window == 0 || Stride == 0) return Rule::zero_hyperparameter;
    if constexpr (!ImageShape<In>) {
      return Rule::needs_image_input;
    } else {
      if (window_output(In::dims[1], Window, Stride, 0) == 0 ||
          window_output(In::dims[2], Window, Stride, 0) == 0)
        return Rule::window_larger_than_input;
      return Rule::ok;
    }
  }

  template <class In>
  static constexpr kernels::PoolGeometry geometry{
      In::dims[0], In::dims[1], In::dims[2], Window, Stride,
      window_output(In::dims[1], Window, Stride, 0), window_output(In::dims[2], Window, Stride, 0)};

  template <class In>
  using output_shape = Shape<In::dims[0], geometry<In>.out_height, geometry<In>.out_width>;
};
}  // namespace detail

template <std::size_t Window, std::size_t Stride = Window>
struct MaxPool : detail::WindowPool<Window, Stride> {
  static constexpr bool has_backward_through_relu = true;  // layer::backward_through_relu
  static constexpr bool backward_reads_input = false;      // the winners, and y through a Relu
  static std::string name() { return detail::template_name("MaxPool", Window, Stride); }

  template <class In, class T>
  class layer : public ParameterFree<T> {
    static constexpr kernels::PoolGeometry G = MaxPool::template geometry<In>;

   public:
    void forward(const T* x, T* y, std::size_t batch, Mode mode, Rng&) {
      if (mode == Mode::inference) {  // no backward follows: the winners are not needed
        kernels::maxpool_forward<G>(x, y, static_cast<std::uint32_t*>(nullptr), batch);
        return;
      }
      detail::ensure_size(argmax_, batch * G.output_size());
      kernels::maxpool_forward<G>(x, y, argmax_.data(), batch);
    }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::maxpool_backward<G>(dy, argmax_.data(), dx, batch);
    }
    // backward, then through the in-place Relu before this layer (Sequence calls it and skips
    // that Relu's backward): dx is the gradient with respect to the Relu's input.
    void backward_through_relu(const T*, const T* y, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::maxpool_backward_through_relu<G>(dy, argmax_.data(), y, dx, batch);
    }

   private:
    std::vector<std::uint32_t> argmax_;  // winner per output, from the last forward
  };
};

template <std::size_t Window, std::size_t Stride = Window>
struct AvgPool : detail::WindowPool<Window, Stride> {
  static std::string name() { return detail::template_name("AvgPool", Window, Stride); }

  template <class In, class T>
  struct layer : ParameterFree<T> {
    static constexpr kernels::PoolGeometry G = AvgPool::template geometry<In>;
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::avgpool_forward<G>(x, y, batch);
    }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::avgpool_backward<G>(dy, dx, batch);
    }
  };
};

struct GlobalAvgPool : LayerSpecBase {
  static std::string name() { return "GlobalAvgPool"; }

  template <class In>
  static constexpr Rule check() { return ImageShape<In> ? Rule::ok : Rule::needs_image_input; }

  template <class In>
  using output_shape = Shape<In::dims[0]>;

  template <class In, class T>
  struct layer : ParameterFree<T> {
    static constexpr std::size_t channels = In::dims[0], pixels = In::dims[1] * In::dims[2];
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::global_avgpool_forward(x, y, batch, channels, pixels);
    }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::global_avgpool_backward(dy, dx, batch, channels, pixels);
    }
  };
};

}  // namespace ctnn
