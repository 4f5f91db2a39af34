#pragma once
// ctnn::cuda::DeviceNet<Model>: the same Net<...> type, run on an NVIDIA GPU.
//
//   using Model = Net<Input<1, 28, 28>, Conv<32, 3>, Relu, MaxPool<2>, Flatten, Dense<10>>;
//   Model net{42};
//   ctnn::cuda::DeviceNet<Model> gpu(net);     // parameters, buffers and Rng copied to the GPU
//   const float* y = gpu.forward_train(x, batch);  // x, y: device memory
//   gpu.backward(dy);                          // gradients() filled on the device
//   gpu.download(net);                         // parameters, buffers and Rng back to the host
//
// Device memory for the parameters, gradients, buffers and every activation is sized from the
// static shapes (activations grow with the batch, once). Layouts are those of the CPU Net, so
// parameters copy over unchanged in both directions. Only float nets run on the device.
// Host-only C++: this header includes no CUDA header (docs/cuda.md).
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "ctnn/cuda/device_layers.hpp"
#include "ctnn/error.hpp"
#include "ctnn/kernels/cuda/runtime.hpp"
#include "ctnn/net/net.hpp"
#include "ctnn/random.hpp"

namespace ctnn::cuda {

namespace detail {
// The DeviceSequence of a Network<T, First, Layers...> (Net derives from one).
template <class T, class First, class... Layers>
DeviceSequence<typename Network<T, First, Layers...>::input_shape, Layers...> sequence_of(
    const Network<T, First, Layers...>*);

template <class Model>
using sequence_t = decltype(sequence_of(static_cast<const Model*>(nullptr)));
}  // namespace detail

// A device pointer with its length.
template <class T>
struct DeviceSpan {
  T* data = nullptr;
  std::size_t size = 0;
};

template <class Model>
class DeviceNet {
  static_assert(std::is_same_v<typename Model::scalar_type, float>,  // a rebind<double> net
                "ctnn::cuda::DeviceNet runs float networks: use the Net<...> type itself, not "
                "Net<...>::rebind<double>");
  using Sequence = detail::sequence_t<Model>;

 public:
  using model_type = Model;
  using scalar_type = float;
  using input_shape = typename Model::input_shape;
  using output_shape = typename Model::output_shape;
  static constexpr std::size_t parameter_count = Model::parameter_count;
  static constexpr std::size_t buffer_count = Model::buffer_count;
  static_assert(Sequence::parameter_count == parameter_count &&
                    Sequence::buffer_count == buffer_count,
                "ctnn::cuda: a device layer's parameter or buffer count differs from its CPU layer's");

  // Default workspace cap for the convolution lowering: 1 GiB (at least one sample's worth).
  static constexpr std::size_t default_workspace_bytes = std::size_t(1) << 30;

  // The net's parameters, buffers and Rng state, copied to the device.
  explicit DeviceNet(const Model& net) : rng_(0) {
    allocate();
    upload(net);
  }
  // A fresh Model{seed}, initialised on the host exactly as the CPU would, then copied.
  explicit DeviceNet(std::uint64_t seed = 0) : DeviceNet(Model{seed}) {}

  DeviceNet(const DeviceNet&) = delete;
  DeviceNet& operator=(const DeviceNet&) = delete;

  // Host -> device: parameters, buffers and the Rng (dropout seeds are drawn from it).
  void upload(const Model& net) {
    parameters_.upload(net.parameters().data(), parameter_count);
    buffers_.upload(net.buffers().data(), buffer_count);
    rng_ = const_cast<Model&>(net).rng();
  }
  // Device -> host: parameters, buffers and the Rng; the host net's gradients are left alone.
  void download(Model& net) const {
    parameters_.download(net.parameters().data(), parameter_count);
    buffers_.download(net.buffers().data(), buffer_count);
    net.rng() = rng_;
  }
  // The gradients of the last backward, into host memory of parameter_count values.
  void download_gradients(std::span<float> out) const {
    if (out.size() != parameter_count)
      throw ConfigError("DeviceNet::download_gradients: " + std::to_string(out.size()) +
                        " values given for " + std::to_string(parameter_count) + " gradients");
    gradients_.download(out.data(), parameter_count);
  }

  // Training-mode forward on device memory x (batch x input size), which must stay alive until
  // backward. Returns the device output (batch x output size), valid until the next pass.
  const float* forward_train(const float* x, std::size_t batch) { return run(x, batch, Mode::training); }
  // Inference on device memory.
  const float* predict(const float* x, std::size_t batch) { return run(x, batch, Mode::inference); }
  // After forward_train: doutput (device, batch x output size) => gradients() (overwritten) and,
  // when dinput (device) is given, the gradient with respect to the input.
  void backward(const float* doutput, float* dinput = nullptr) {
    layers_.backward(last_input_, output_.data(), doutput, dinput, last_batch_, context());
  }

  // Host convenience: x_host (batch x input size) => the outputs, in inference mode.
  std::vector<float> predict_host(const float* x_host, std::size_t batch) {
    input_.ensure(batch * input_shape::size);
    input_.upload(x_host, batch * input_shape::size);
    const float* y = predict(input_.data(), batch);
    std::vector<float> out(batch * output_shape::size);
    kc::copy_to_host(out.data(), y, out.size() * sizeof(float));
    return out;
  }

  DeviceSpan<float> parameters() { return {parameters_.data(), parameter_count}; }
  DeviceSpan<const float> parameters() const { return {parameters_.data(), parameter_count}; }
  DeviceSpan<float> gradients() { return {gradients_.data(), parameter_count}; }
  DeviceSpan<const float> gradients() const { return {gradients_.data(), parameter_count}; }
  DeviceSpan<float> buffers() { return {buffers_.data(), buffer_count}; }
  DeviceSpan<const float> buffers() const { return {buffers_.data(), buffer_count}; }

  static const std::vector<ParameterSegment>& parameter_segments() { return Model::parameter_segments(); }
  static std::string signature() { return Model::signature(); }
  static std::string summary() { return Model::summary(); }

  Rng& rng() { return rng_; }

  // Caps the convolution workspace (bytes); larger caps mean fewer, larger GEMMs.
  void set_workspace_limit(std::size_t bytes) { workspace_limit_ = bytes; }

 private:
  void allocate() {
    parameters_.ensure(parameter_count);
    gradients_.ensure(parameter_count);
    buffers_.ensure(buffer_count);
    gradients_.zero();
    layers_.bind(parameters_.data(), gradients_.data(), buffers_.data());
  }

  DeviceContext& context() { return context_; }

  const float* run(const float* x, std::size_t batch, Mode mode) {
    output_.ensure(batch * output_shape::size);
    if constexpr (Sequence::workspace_per_sample > 0) {
      const std::size_t per_sample = Sequence::workspace_per_sample;
      std::size_t samples = workspace_limit_ / (per_sample * sizeof(float));
      samples = samples == 0 ? 1 : (samples < batch ? samples : batch);
      workspace_.ensure(samples * per_sample);
    }
    context_ = {workspace_.data(), workspace_.size(), &rng_};
    layers_.forward(x, output_.data(), batch, mode, context_);
    last_input_ = x;
    last_batch_ = batch;
    return output_.data();
  }

  DeviceBuffer<float> parameters_, gradients_, buffers_;
  Rng rng_;
  Sequence layers_;
  DeviceBuffer<float> output_, workspace_, input_;
  DeviceContext context_;
  std::size_t workspace_limit_ = default_workspace_bytes;
  const float* last_input_ = nullptr;
  std::size_t last_batch_ = 0;
};

}  // namespace ctnn::cuda
