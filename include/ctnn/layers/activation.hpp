#pragma once
// Elementwise activations: Relu, LeakyRelu<Slope = 0.01>, Sigmoid, Tanh. Any input shape; the
// output has the same shape. No parameters.
#include <cstddef>
#include <string>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/layers/layer.hpp"

namespace ctnn {

struct Relu : detail::Elementwise {
  static constexpr bool runs_in_place = true;  // x > 0 exactly where relu(x) > 0, NaN included
  static constexpr bool is_relu = true;
  static std::string name() { return "Relu"; }
  template <class In, class T>
  struct layer : ParameterFree<T> {
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::relu_forward(x, y, batch * In::size);
    }
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::relu_backward(x, dy, dx, batch * In::size);
    }
  };
};

template <double Slope = 0.01>
struct LeakyRelu : detail::Elementwise {
  static std::string name() { return detail::template_name("LeakyRelu", Slope); }
  template <class In, class T>
  struct layer : ParameterFree<T> {
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::leaky_relu_forward(x, y, batch * In::size, T(Slope));
    }
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::leaky_relu_backward(x, dy, dx, batch * In::size, T(Slope));
    }
  };
};

struct Sigmoid : detail::Elementwise {
  static constexpr bool backward_reads_output = true;
  static std::string name() { return "Sigmoid"; }
  template <class In, class T>
  struct layer : ParameterFree<T> {
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::sigmoid_forward(x, y, batch * In::size);
    }
    void backward(const T*, const T* y, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::sigmoid_backward(y, dy, dx, batch * In::size);
    }
  };
};

struct Tanh : detail::Elementwise {
  static constexpr bool backward_reads_output = true;
  static std::string name() { return "Tanh"; }
  template <class In, class T>
  struct layer : ParameterFree<T> {
    void forward(const T* x, T* y, std::size_t batch, Mode, Rng&) {
      kernels::tanh_forward(x, y, batch * In::size);
    }
    void backward(const T*, const T* y, const T* dy, T* dx, std::size_t batch) {
      if (dx) kernels::tanh_backward(y, dy, dx, batch * In::size);
    }
  };
};

}  // namespace ctnn
