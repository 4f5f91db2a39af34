#pragma once
// The device twin of every layer: device_layer<Spec, In> mirrors Spec::layer<In, float> (same
// parameter and buffer counts, so both backends share the flat-array layout of docs/design.md)
// and runs it through the launchers of kernels/cuda/kernels.hpp. DeviceSequence mirrors
// Sequence: the chain Net and Residual run. Host-only C++: no CUDA header.
//
// A device layer has
//   static constexpr std::size_t parameter_count, buffer_count;   // those of the CPU layer
//   static constexpr std::size_t workspace_per_sample;           // floats of shared scratch
//   void bind(float* params, float* grads, float* buffers);      // device views
//   void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&);
//   void backward(const float* x, const float* y, const float* dy, float* dx, std::size_t batch,
//                 DeviceContext&);
// with the CPU layer's contract: backward overwrites the parameter gradients and writes dx only
// when it is non-null. A layer spec without a device twin is one compile error naming it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/kernels/cuda/kernels.hpp"
#include "ctnn/kernels/cuda/runtime.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/batch_norm.hpp"
#include "ctnn/layers/conv.hpp"
#include "ctnn/layers/dense.hpp"
#include "ctnn/layers/dropout.hpp"
#include "ctnn/layers/flatten.hpp"
#include "ctnn/layers/pool.hpp"
#include "ctnn/layers/residual.hpp"
#include "ctnn/layers/sequence.hpp"
#include "ctnn/random.hpp"

namespace ctnn::cuda {

namespace kc = ctnn::kernels::cuda;
using kc::DeviceBuffer;

// What a device layer gets besides its pointers: the shared workspace (convolution lowering)
// and the source of dropout seeds.
struct DeviceContext {
  float* workspace = nullptr;
  std::size_t workspace_size = 0;  // floats
  Rng* rng = nullptr;
};

template <class Spec, class In>
struct device_layer;

namespace detail {

template <class Spec>
inline constexpr bool no_device_layer = false;

// A layer without device buffers or parameters.
struct DeviceParameterFree {
  static constexpr std::size_t parameter_count = 0;
  static constexpr std::size_t buffer_count = 0;
  static constexpr std::size_t workspace_per_sample = 0;
  void bind(float*, float*, float*) {}
};

inline void copy_values(const float* from, float* to, std::size_t n) {
  kc::copy_on_device(to, from, n * sizeof(float));
}

}  // namespace detail

// device_layer<Spec, In>: no device version of Spec. One error, then a do-nothing stand-in with
// the CPU layer's counts, so nothing else fails.
template <class Spec, class In>
struct device_layer {
  static_assert(detail::no_device_layer<Spec>,  // this layer has no CUDA version (docs/cuda.md)
                "ctnn::cuda: this layer spec has no device version; specialise "
                "ctnn::cuda::device_layer<Spec, In> for it, or train this net on the CPU");
  using cpu_layer = typename Spec::template layer<In, float>;
  static constexpr std::size_t parameter_count = cpu_layer::parameter_count;
  static constexpr std::size_t buffer_count = cpu_layer::buffer_count;
  static constexpr std::size_t workspace_per_sample = 0;
  void bind(float*, float*, float*) {}
  void forward(const float*, float*, std::size_t, Mode, DeviceContext&) {}
  void backward(const float*, const float*, const float*, float*, std::size_t, DeviceContext&) {}
};

// DeviceSequence<In, Layers...>: the device twin of Sequence<float, In, Layers...>.
template <class In, class... Layers>
class DeviceSequence {
 public:
  static constexpr std::size_t length = sizeof...(Layers);
  using shapes = ctnn::detail::chain_shapes<In, Layers...>;
  template <std::size_t I>
  using shape_at = ctnn::detail::list_at_t<I, shapes>;  // input of layer I; shape_at<length> = output
  using output_shape = shape_at<length>;

 private:
  using indices = std::make_index_sequence<length>;
  template <class Indices>
  struct objects_for;
  template <std::size_t... I>
  struct objects_for<std::index_sequence<I...>> {
    using type = std::tuple<device_layer<Layers, shape_at<I>>...>;
  };
  using objects = typename objects_for<indices>::type;
  template <std::size_t I>
  using object_at = std::tuple_element_t<I, objects>;

  template <std::size_t... I>
  static constexpr auto offsets(std::index_sequence<I...>, [[maybe_unused]] bool buffers) {
    std::array<std::size_t, length + 1> out{};
    const std::size_t counts[] = {0, (buffers ? object_at<I>::buffer_count : object_at<I>::parameter_count)...};
    for (std::size_t i = 0; i < length; ++i) out[i + 1] = out[i] + counts[i + 1];
    return out;
  }
  static constexpr auto parameter_offsets = offsets(indices{}, false);
  static constexpr auto buffer_offsets = offsets(indices{}, true);

  template <std::size_t... I>
  static constexpr std::size_t largest_inner(std::index_sequence<I...>) {
    return std::max({std::size_t{0}, (I + 1 < length ? shape_at<I + 1>::size : 0)...});
  }
  static constexpr std::size_t largest_activation = largest_inner(indices{});

  template <std::size_t... I>
  static constexpr std::size_t largest_workspace(std::index_sequence<I...>) {
    return std::max({std::size_t{0}, object_at<I>::workspace_per_sample...});
  }

 public:
  static constexpr std::size_t parameter_count = parameter_offsets[length];
  static constexpr std::size_t buffer_count = buffer_offsets[length];
  static constexpr std::size_t workspace_per_sample = largest_workspace(indices{});

  void bind(float* params, float* grads, float* buffers) {
    each([&]<std::size_t I>() {
      std::get<I>(layers_).bind(params + parameter_offsets[I], grads + parameter_offsets[I],
                                buffers + buffer_offsets[I]);
    });
  }

  // x: (batch, In) => y: (batch, output_shape); keeps the inner activations for backward.
  void forward(const float* x, float* y, std::size_t batch, Mode mode, DeviceContext& ctx) {
    if constexpr (length == 0) {
      detail::copy_values(x, y, batch * In::size);
    } else {
      each([&]<std::size_t I>() {
        if constexpr (I + 1 < length) activations_[I].ensure(batch * shape_at<I + 1>::size);
      });
      each([&]<std::size_t I>() {
        std::get<I>(layers_).forward(input_of<I>(x), output_of<I>(y), batch, mode, ctx);
      });
    }
  }

  // After forward(x -> y): dy => dx (skipped when null); parameter gradients overwritten.
  void backward(const float* x, const float* y, const float* dy, float* dx, std::size_t batch,
                DeviceContext& ctx) {
    if constexpr (length == 0) {
      if (dx) detail::copy_values(dy, dx, batch * In::size);
    } else {
      for (auto& g : scratch_) g.ensure(batch * largest_activation);
      each_reversed([&]<std::size_t I>() {
        const float* d_out = I + 1 == length ? dy : scratch_[(I + 1) % 2].data();
        float* d_in = I == 0 ? dx : scratch_[I % 2].data();
        std::get<I>(layers_).backward(input_of<I>(x), output_of<I>(const_cast<float*>(y)), d_out,
                                      d_in, batch, ctx);
      });
    }
  }

 private:
  template <std::size_t I>
  const float* input_of(const float* x) const {
    if constexpr (I == 0) return x; else return activations_[I - 1].data();
  }
  template <std::size_t I>
  float* output_of(float* y) {
    if constexpr (I + 1 == length) return y; else return activations_[I].data();
  }

  template <class F>
  static void each(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }(indices{});
  }
  template <class F>
  static void each_reversed(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<length - 1 - I>(), ...);
    }(indices{});
  }

  objects layers_;
  std::array<DeviceBuffer<float>, (length > 0 ? length - 1 : 0)> activations_;
  std::array<DeviceBuffer<float>, 2> scratch_;
};

// ---------------------------------------------------------------------------------------------
// Conv<F, K, S, P>: im2col + cuBLAS GEMM over chunks of samples (src/cuda/conv.cu).
template <std::size_t Filters, std::size_t Kernel, std::size_t Stride, std::size_t Padding, class In>
struct device_layer<Conv<Filters, Kernel, Stride, Padding>, In> {
  using cpu_layer = typename Conv<Filters, Kernel, Stride, Padding>::template layer<In, float>;
  static constexpr kernels::ConvGeometry G = Conv<Filters, Kernel, Stride, Padding>::template geometry<In>;
  static constexpr std::size_t weight_count = G.filters * G.patch_size();
  static constexpr std::size_t parameter_count = cpu_layer::parameter_count;
  static constexpr std::size_t buffer_count = cpu_layer::buffer_count;
  static constexpr std::size_t workspace_per_sample = kc::conv2d_workspace_per_sample(G);
  static_assert(parameter_count == weight_count + Filters);

  void bind(float* params, float* grads, float*) {
    w_ = params, b_ = params + weight_count;
    dw_ = grads, db_ = grads + weight_count;
  }
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext& ctx) {
    kc::conv2d_forward(G, x, w_, b_, y, batch, ctx.workspace, ctx.workspace_size);
  }
  void backward(const float* x, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext& ctx) {
    kc::conv2d_backward(G, x, w_, dy, dx, dw_, db_, batch, ctx.workspace, ctx.workspace_size);
  }

 private:
  float *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

// Dense<Units>: cuBLAS GEMM.
template <std::size_t Units, class In>
struct device_layer<Dense<Units>, In> {
  using cpu_layer = typename Dense<Units>::template layer<In, float>;
  static constexpr std::size_t inputs = In::size, weight_count = Units * inputs;
  static constexpr std::size_t parameter_count = cpu_layer::parameter_count;
  static constexpr std::size_t buffer_count = cpu_layer::buffer_count;
  static constexpr std::size_t workspace_per_sample = 0;
  static_assert(parameter_count == weight_count + Units);

  void bind(float* params, float* grads, float*) {
    w_ = params, b_ = params + weight_count;
    dw_ = grads, db_ = grads + weight_count;
  }
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    kc::dense_forward(x, w_, b_, y, batch, inputs, Units);
  }
  void backward(const float* x, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    kc::dense_backward(x, w_, dy, dx, dw_, db_, batch, inputs, Units);
  }

 private:
  float *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

// MaxPool<Window, Stride>: records the winners for backward.
template <std::size_t Window, std::size_t Stride, class In>
struct device_layer<MaxPool<Window, Stride>, In> : detail::DeviceParameterFree {
  static constexpr kernels::PoolGeometry G = MaxPool<Window, Stride>::template geometry<In>;
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    argmax_.ensure(batch * G.output_size());
    kc::maxpool_forward(G, x, y, argmax_.data(), batch);
  }
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) kc::maxpool_backward(G, dy, argmax_.data(), dx, batch);
  }

 private:
  DeviceBuffer<std::uint32_t> argmax_;
};

template <std::size_t Window, std::size_t Stride, class In>
struct device_layer<AvgPool<Window, Stride>, In> : detail::DeviceParameterFree {
  static constexpr kernels::PoolGeometry G = AvgPool<Window, Stride>::template geometry<In>;
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    kc::avgpool_forward(G, x, y, batch);
  }
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) kc::avgpool_backward(G, dy, dx, batch);
  }
};

template <class In>
struct device_layer<GlobalAvgPool, In> : detail::DeviceParameterFree {
  static constexpr std::size_t channels = In::dims[0], pixels = In::dims[1] * In::dims[2];
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    kc::global_avgpool_forward(x, y, batch, channels, pixels);
  }
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) kc::global_avgpool_backward(dy, dx, batch, channels, pixels);
  }
};

// Flatten: the layout is already flat; a device copy, as the CPU layer's.
template <class In>
struct device_layer<Flatten, In> : detail::DeviceParameterFree {
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    detail::copy_values(x, y, batch * In::size);
  }
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) detail::copy_values(dy, dx, batch * In::size);
  }
};

// ---------------------------------------------------------------------------------------------
// Activations.
template <class In>
struct device_layer<Relu, In> : detail::DeviceParameterFree {
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    kc::relu_forward(x, y, batch * In::size);
  }
  void backward(const float* x, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) kc::relu_backward(x, dy, dx, batch * In::size);
  }
};

template <double Slope, class In>
struct device_layer<LeakyRelu<Slope>, In> : detail::DeviceParameterFree {
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    kc::leaky_relu_forward(x, y, batch * In::size, float(Slope));
  }
  void backward(const float* x, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) kc::leaky_relu_backward(x, dy, dx, batch * In::size, float(Slope));
  }
};

template <class In>
struct device_layer<Sigmoid, In> : detail::DeviceParameterFree {
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    kc::sigmoid_forward(x, y, batch * In::size);
  }
  void backward(const float*, const float* y, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) kc::sigmoid_backward(y, dy, dx, batch * In::size);
  }
};

template <class In>
struct device_layer<Tanh, In> : detail::DeviceParameterFree {
  void forward(const float* x, float* y, std::size_t batch, Mode, DeviceContext&) {
    kc::tanh_forward(x, y, batch * In::size);
  }
  void backward(const float*, const float* y, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (dx) kc::tanh_backward(y, dy, dx, batch * In::size);
  }
};

// Dropout<P>: the mask is a hash of (seed, index) with a fresh seed from ctx.rng per training
// pass; backward recomputes it. Same distribution as the CPU layer, not the same draws.
template <double P, class In>
struct device_layer<Dropout<P>, In> : detail::DeviceParameterFree {
  void forward(const float* x, float* y, std::size_t batch, Mode mode, DeviceContext& ctx) {
    const std::size_t n = batch * In::size;
    training_ = mode == Mode::training && P > 0.0;
    if (!training_) {
      detail::copy_values(x, y, n);
      return;
    }
    seed_ = ctx.rng->next();
    kc::dropout_forward(x, y, n, float(P), seed_);
  }
  void backward(const float*, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    if (!dx) return;
    const std::size_t n = batch * In::size;
    if (training_)
      kc::dropout_backward(dy, dx, n, float(P), seed_);
    else
      detail::copy_values(dy, dx, n);
  }

 private:
  std::uint64_t seed_ = 0;
  bool training_ = false;
};

// BatchNorm: batch statistics in training (running statistics updated), running ones otherwise.
template <class In>
struct device_layer<BatchNorm, In> {
  using cpu_layer = typename BatchNorm::template layer<In, float>;
  static constexpr std::size_t channels = In::dims[0], pixels = In::size / channels;
  static constexpr std::size_t parameter_count = cpu_layer::parameter_count;
  static constexpr std::size_t buffer_count = cpu_layer::buffer_count;
  static constexpr std::size_t workspace_per_sample = 0;
  static constexpr kernels::BatchNormSettings settings{};

  void bind(float* params, float* grads, float* buffers) {
    gamma_ = params, beta_ = params + channels;
    dgamma_ = grads, dbeta_ = grads + channels;
    running_mean_ = buffers, running_var_ = buffers + channels;
    statistics_.ensure(2 * channels);
  }
  void forward(const float* x, float* y, std::size_t batch, Mode mode, DeviceContext&) {
    if (mode == Mode::training)
      kc::batch_norm_forward_train(x, gamma_, beta_, y, mean(), inv_std(), running_mean_,
                                   running_var_, batch, channels, pixels, settings.epsilon,
                                   settings.momentum);
    else
      kc::batch_norm_forward_inference(x, gamma_, beta_, y, running_mean_, running_var_, batch,
                                       channels, pixels, settings.epsilon);
  }
  void backward(const float* x, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext&) {
    kc::batch_norm_backward(x, gamma_, mean(), inv_std(), dy, dx, dgamma_, dbeta_, batch, channels,
                            pixels);
  }

 private:
  float* mean() { return statistics_.data(); }
  float* inv_std() { return statistics_.data() + channels; }

  float *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
  float *running_mean_ = nullptr, *running_var_ = nullptr;
  DeviceBuffer<float> statistics_;  // mean then 1/std of the last training forward
};

// Residual<Layers...>: y = x + f(x) with the branch as a DeviceSequence.
template <class... Layers, class In>
struct device_layer<Residual<Layers...>, In> {
  using Branch = DeviceSequence<In, Layers...>;
  static constexpr std::size_t parameter_count = Branch::parameter_count;
  static constexpr std::size_t buffer_count = Branch::buffer_count;
  static constexpr std::size_t workspace_per_sample = Branch::workspace_per_sample;

  void bind(float* params, float* grads, float* buffers) { branch_.bind(params, grads, buffers); }
  void forward(const float* x, float* y, std::size_t batch, Mode mode, DeviceContext& ctx) {
    const std::size_t n = batch * In::size;
    branch_output_.ensure(n);
    branch_.forward(x, branch_output_.data(), batch, mode, ctx);
    detail::copy_values(branch_output_.data(), y, n);
    kc::add_to(x, y, n);
  }
  // dL/dx = dy + f'(x)^T dy
  void backward(const float* x, const float*, const float* dy, float* dx, std::size_t batch,
                DeviceContext& ctx) {
    branch_.backward(x, branch_output_.data(), dy, dx, batch, ctx);
    if (dx) kc::add_to(dy, dx, batch * In::size);
  }

 private:
  Branch branch_;
  DeviceBuffer<float> branch_output_;  // f(x) of the last forward
};

}  // namespace ctnn::cuda
