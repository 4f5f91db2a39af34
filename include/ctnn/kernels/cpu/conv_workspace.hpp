#pragma once
// Scratch memory of one convolution layer on the CPU: it grows on the first step (sized from
// the static geometry and the batch) and then stays, so later steps allocate nothing.
#include <cstddef>
#include <vector>

namespace ctnn::kernels::cpu {

template <class T>
struct conv_workspace {
  std::vector<T> bands;     // per thread: im2col columns, or Winograd tiles and products
  std::vector<T> partials;  // per-thread weight and bias gradients, summed in thread order
  std::vector<T> weights;   // Winograd: the transformed weights of this step

  void reserve(std::size_t parts, std::size_t band_size, std::size_t gradient_size) {
    grow(bands, parts * band_size);
    grow(partials, parts > 1 ? (parts - 1) * gradient_size : 0);
  }
  // Zero-filled when it grows: lanes past a row's last tile read these values, which must be
  // finite numbers (and not denormals, which are slow).
  static void grow(std::vector<T>& v, std::size_t size) {
    if (v.size() < size) v.resize(size);
  }
};

}  // namespace ctnn::kernels::cpu
