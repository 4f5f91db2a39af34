#pragma once
// MeanSquaredError: mean over all batch x width elements of (out - target)^2, as PyTorch's
// nn.MSELoss(reduction='mean'). With integer class labels the target is the one-hot vector.
#include <cstddef>
#include <cstdint>
#include <string>

namespace ctnn {

struct MeanSquaredError {
  static std::string name() { return "MeanSquaredError"; }

  // out, target: (batch, width). Returns the mean; grad (nullable) gets d(mean)/d(out).
  template <class T>
  static T forward(const T* out, const T* target, std::size_t batch, std::size_t width, T* grad) {
    const std::size_t n = batch * width;
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = double(out[i]) - double(target[i]);
      total += d * d;
      if (grad) grad[i] = T(2.0 * d / double(n));
    }
    return T(total / double(n));
  }

  // Class labels: the target is one-hot.
  template <class T>
  static T forward(const T* out, const std::int32_t* labels, std::size_t batch, std::size_t width,
                   T* grad) {
    const std::size_t n = batch * width;
    double total = 0;
    for (std::size_t b = 0; b < batch; ++b)
      for (std::size_t c = 0; c < width; ++c) {
        const std::size_t i = b * width + c;
        const double d = double(out[i]) - (std::size_t(labels[b]) == c ? 1.0 : 0.0);
        total += d * d;
        if (grad) grad[i] = T(2.0 * d / double(n));
      }
    return T(total / double(n));
  }
};

}  // namespace ctnn
