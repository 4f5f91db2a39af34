#pragma once
// Residual<Layers...>: y = x + f(x), where f is the chain Layers... . Requires f to return the
// shape it received (both shapes are named in the error otherwise); ensures the input shape.
// Parameters are those of the branch.
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/kernels/kernels.hpp"
#include "ctnn/layers/layer.hpp"
#include "ctnn/layers/sequence.hpp"

namespace ctnn {

template <class... Layers>
struct Residual : LayerSpecBase {
  static std::string name() {
    std::string out = "Residual<";
    std::size_t i = 0;
    ((out += (i++ ? ", " : "") + Layers::name()), ...);
    return out + ">";
  }

  template <class In>
  using branch_shape = chain_output<In, Layers...>;

  template <class In>
  static constexpr Rule check() {
    // A broken link inside the branch was already reported there.
    if constexpr (std::is_same_v<branch_shape<In>, InvalidShape>)
      return Rule::ok;
    else
      return std::is_same_v<branch_shape<In>, In> ? Rule::ok : Rule::residual_changes_shape;
  }

  template <class In>
  using output_shape = std::conditional_t<std::is_same_v<branch_shape<In>, InvalidShape>, InvalidShape, In>;

  template <class In, class T>
  class layer {
    using Branch = Sequence<T, In, Layers...>;

   public:
    static constexpr std::size_t parameter_count = Branch::parameter_count;
    static constexpr std::size_t buffer_count = Branch::buffer_count;
    static std::vector<SegmentInfo> segments() {
      std::vector<SegmentInfo> out;
      for (auto& [index, segment] : Branch::segments()) {
        segment.name = std::to_string(index + 1) + "." + segment.name;
        out.push_back(segment);
      }
      return out;
    }

    void bind(T* params, T* grads, T* buffers) { branch_.bind(params, grads, buffers); }
    void initialize(Rng& rng) { branch_.initialize(rng); }

    void forward(const T* x, T* y, std::size_t batch, Mode mode, Rng& rng) {
      const std::size_t n = batch * In::size;
      detail::ensure_size(branch_output_, n);
      branch_.forward(x, branch_output_.data(), batch, mode, rng);
      std::copy(branch_output_.data(), branch_output_.data() + n, y);
      kernels::add_to(x, y, n);
    }
    // dL/dx = dy + f'(x)^T dy
    void backward(const T* x, const T*, const T* dy, T* dx, std::size_t batch) {
      branch_.backward(x, branch_output_.data(), dy, dx, batch);
      if (dx) kernels::add_to(dy, dx, batch * In::size);
    }

   private:
    Branch branch_;
    std::vector<T> branch_output_;  // f(x) of the last forward
  };
};

}  // namespace ctnn
