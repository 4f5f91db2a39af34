#pragma once
// Dropout<P>: in training, zeroes each unit with probability P and scales the survivors by
// 1/(1-P) (inverted dropout), so inference is the identity. Requires 0 <= P < 1.
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/layers/layer.hpp"

namespace ctnn {

template <double P>
struct Dropout : detail::Elementwise {
  static std::string name() { return detail::template_name("Dropout", P); }

  template <class In>
  static constexpr Rule check() {
    return (P >= 0.0 && P < 1.0) ? Rule::ok : Rule::dropout_probability_invalid;
  }

  template <class In, class T>
  class layer : public ParameterFree<T> {
   public:
    void forward(const T* x, T* y, std::size_t batch, Mode mode, Rng& rng) {
      const std::size_t n = batch * In::size;
      training_ = mode == Mode::training && P > 0.0;
      if (!training_) {
        std::copy(x, x + n, y);
        return;
      }
      detail::ensure_size(mask_, n);
      const T keep_scale = T(1.0 / (1.0 - P));
      for (std::size_t i = 0; i < n; ++i) mask_[i] = rng.uniform() < P ? T(0) : keep_scale;
      kernels::multiply(x, mask_.data(), y, n);
    }
    void backward(const T*, const T*, const T* dy, T* dx, std::size_t batch) {
      if (!dx) return;
      const std::size_t n = batch * In::size;
      if (training_)
        kernels::multiply(dy, mask_.data(), dx, n);
      else
        std::copy(dy, dy + n, dx);
    }

   private:
    std::vector<T> mask_;  // 0 or 1/(1-P) per unit, from the last training forward
    bool training_ = false;
  };
};

}  // namespace ctnn
