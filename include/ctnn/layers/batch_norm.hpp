#pragma once
// BatchNorm: normalises per channel on C,H,W inputs and per feature on flat inputs, then scales
// by gamma and shifts by beta (both parameters, not decayed). Running mean and variance are
// buffers used at inference (PyTorch: momentum 0.1, eps 1e-5, unbiased running variance).
#include <cstddef>
#include <string>
#include <vector>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/layers/layer.hpp"

namespace ctnn {

struct BatchNorm : LayerSpecBase {
  static std::string name() { return "BatchNorm"; }

  template <class In>
  static constexpr Rule check() {
    return (In::rank == 1 || In::rank == 3) ? Rule::ok : Rule::needs_image_input;
  }

  template <class In>
  using output_shape = In;

  template <class In, class T>
  class layer {
    static constexpr std::size_t channels = In::dims[0];
    static constexpr std::size_t pixels = In::size / channels;

   public:
    static constexpr std::size_t parameter_count = 2 * channels;
    static constexpr std::size_t buffer_count = 2 * channels;
    static std::vector<SegmentInfo> segments() {
      return {{"gamma", 0, channels, false}, {"beta", channels, channels, false}};
    }

    void bind(T* params, T* grads, T* buffers) {
      gamma_ = params, beta_ = params + channels;
      dgamma_ = grads, dbeta_ = grads + channels;
      running_mean_ = buffers, running_var_ = buffers + channels;
    }
    void initialize(Rng&) {
      for (std::size_t c = 0; c < channels; ++c) {
        gamma_[c] = T(1), beta_[c] = T(0);
        running_mean_[c] = T(0), running_var_[c] = T(1);
      }
    }
    void forward(const T* x, T* y, std::size_t batch, Mode mode, Rng&) {
      if (mode == Mode::training)
        kernels::batch_norm_forward_train(x, gamma_, beta_, y, mean_, inv_std_, running_mean_,
                                          running_var_, batch, channels, pixels, {});
      else
        kernels::batch_norm_forward_inference(x, gamma_, beta_, y, running_mean_, running_var_,
                                              batch, channels, pixels, {});
    }
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch) {
      kernels::batch_norm_backward(x, gamma_, mean_, inv_std_, dy, dx, dgamma_, dbeta_, batch,
                                   channels, pixels);
    }

   private:
    T *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
    T *running_mean_ = nullptr, *running_var_ = nullptr;
    T mean_[channels]{}, inv_std_[channels]{};  // batch statistics of the last training forward
  };
};

}  // namespace ctnn
