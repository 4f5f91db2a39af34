#pragma once
// A checked chain of layers. Linking computes every intermediate shape at compile time with one
// fold expression (no recursion), checks each link once, and reports a broken link through the
// diagnostics of shape/diagnostics.hpp; the broken link yields InvalidShape so later links stay
// silent. Sequence is the runtime chain that Net and Residual run forward and backward.
#include <algorithm>
#include <array>
#include <boost/hana/at.hpp>
#include <boost/hana/tuple.hpp>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/layers/layer.hpp"

namespace ctnn {

template <class... T>
struct type_list {};

namespace detail {

template <std::size_t I, class List>
struct list_at;
template <std::size_t I, class... T>
struct list_at<I, type_list<T...>> {
  using type = std::tuple_element_t<I, std::tuple<T...>>;
};
template <std::size_t I, class List>
using list_at_t = typename list_at<I, List>::type;

template <class L, class In>
struct lazy_output {
  using type = typename L::template output_shape<In>;
};

// The first Rule layer L breaks at input In (ok for an already poisoned input).
template <class L, class In>
consteval Rule link_rule() {
  if constexpr (std::is_same_v<In, InvalidShape>)
    return Rule::ok;
  else if constexpr (!LayerSpec<L>)
    return Rule::not_a_layer;
  else
    return L::template check<In>();
}

// link<Position, L, In>: check one link, report it if broken, and give its output shape.
template <std::size_t Position, class L, class In>
struct link {
  static constexpr Rule rule = link_rule<L, In>();
  static constexpr bool valid = rule == Rule::ok && !std::is_same_v<In, InvalidShape> &&
                                report<rule, Position, L, In>();
  using output = typename std::conditional_t<valid, lazy_output<L, In>,
                                             std::type_identity<InvalidShape>>::type;
};

// chain<Current, Shapes...>: the shapes so far (input first, Current last).
template <class Current, class... Shapes>
struct chain {
  using shapes = type_list<Shapes...>;
};
template <class L>
struct tag {};

template <class Current, class... Shapes, class L>
auto operator>>(chain<Current, Shapes...>, tag<L>)
    -> chain<typename link<sizeof...(Shapes), L, Current>::output, Shapes...,
             typename link<sizeof...(Shapes), L, Current>::output>;

// type_list<In, S1, ..., SN>: the input shape of every layer, then the output shape.
template <class In, class... Layers>
using chain_shapes =
    typename decltype((chain<In, In>{} >> ... >> tag<Layers>{}))::shapes;

template <class T, class Shapes, class Layers, class Indices>
struct layer_objects;
template <class T, class Shapes, class... Layers, std::size_t... I>
struct layer_objects<T, Shapes, type_list<Layers...>, std::index_sequence<I...>> {
  using type = boost::hana::tuple<typename Layers::template layer<list_at_t<I, Shapes>, T>...>;
};

}  // namespace detail

// Output shape of Layers... applied to In, InvalidShape if any link is broken.
template <class In, class... Layers>
using chain_output = detail::list_at_t<sizeof...(Layers), detail::chain_shapes<In, Layers...>>;

// The runtime chain. Requires every link to be valid (Net and Residual only instantiate it then).
template <class T, class In, class... Layers>
class Sequence {
 public:
  static constexpr std::size_t length = sizeof...(Layers);
  using shapes = detail::chain_shapes<In, Layers...>;
  template <std::size_t I>
  using shape_at = detail::list_at_t<I, shapes>;  // input of layer I; shape_at<length> = output
  using output_shape = shape_at<length>;
  template <std::size_t I>
  using spec_at = detail::list_at_t<I, type_list<Layers...>>;  // the spec of layer I

 private:
  using indices = std::make_index_sequence<length>;
  using objects = typename detail::layer_objects<T, shapes, type_list<Layers...>, indices>::type;
  template <std::size_t I>
  using object_at = std::remove_cvref_t<decltype(boost::hana::at_c<I>(std::declval<objects&>()))>;

  template <std::size_t... I>
  static constexpr auto offsets(std::index_sequence<I...>, [[maybe_unused]] bool buffers) {
    std::array<std::size_t, length + 1> out{};
    const std::size_t counts[] = {0, (buffers ? object_at<I>::buffer_count : object_at<I>::parameter_count)...};
    for (std::size_t i = 0; i < length; ++i) out[i + 1] = out[i] + counts[i + 1];
    return out;
  }
  static constexpr auto parameter_offsets = offsets(indices{}, false);
  static constexpr auto buffer_offsets = offsets(indices{}, true);

  // Largest intermediate activation per sample: sizes the two gradient scratch buffers.
  template <std::size_t... I>
  static constexpr std::size_t largest_inner(std::index_sequence<I...>) {
    return std::max({std::size_t{0}, (I + 1 < length ? shape_at<I + 1>::size : 0)...});
  }
  static constexpr std::size_t largest_activation = largest_inner(indices{});

 public:
  // Layer I writes its output over its input when it may (Relu), it is neither the first layer
  // (whose input is the caller's) nor the last (whose output is), and the layer before it does
  // not read its own output in backward. Saves a buffer and a pass over memory.
  template <std::size_t I>
  static constexpr bool in_place() {
    if constexpr (I == 0 || I + 1 >= length) {
      return false;
    } else {
      return spec_at<I>::runs_in_place && !spec_at<I - 1>::backward_reads_output;
    }
  }
  // Layer I applies the Relu that follows it (layer I + 1, in place), whose forward is skipped.
  template <std::size_t I>
  static constexpr bool fuses_relu() {
    if constexpr (I + 1 >= length) {
      return false;
    } else {
      return spec_at<I>::has_relu_epilogue && spec_at<I + 1>::is_relu && in_place<I + 1>();
    }
  }
  // Layer I is an in-place Relu whose backward the next layer does (skipped here).
  template <std::size_t I>
  static constexpr bool relu_backward_folded() {
    if constexpr (I + 1 >= length) {
      return false;
    } else {
      return spec_at<I>::is_relu && in_place<I>() && spec_at<I + 1>::has_backward_through_relu;
    }
  }
  // Backward: the scratch_ buffer receiving the gradient with respect to layer I's input
  // (I > 0). Layers alternate between the two buffers; a folded Relu writes nothing, so the
  // layer before it reads the buffer the layer after it wrote.
  template <std::size_t I>
  static constexpr std::size_t gradient_slot() {
    if constexpr (I + 1 >= length) return 0;
    else if constexpr (relu_backward_folded<I>()) return gradient_slot<I + 1>();
    else return 1 - gradient_slot<I + 1>();
  }
  // Training: layer I's output is needed in forward only, so it lives in a backward scratch
  // buffer instead of a buffer of its own. The case handled: a layer whose backward does not
  // read its output, then an in-place Relu whose backward is folded into the next layer, whose
  // backward reads neither its input nor the Relu's output (Conv, Relu, MaxPool). Then nothing
  // reads the Relu's output after the forward pass: its largest buffers (a 384x384 net's
  // full-resolution convolutions) cost no memory of their own.
  template <std::size_t I>
  static constexpr bool forward_only() {
    if constexpr (I + 2 >= length) {
      return false;
    } else {
      // (A layer running backward_through_relu reads its output: not that either.)
      constexpr bool reads_own_output =
          spec_at<I>::backward_reads_output || (I > 0 && relu_backward_folded<I - (I > 0)>());
      return !in_place<I>() && !reads_own_output && in_place<I + 1>() &&
             relu_backward_folded<I + 1>() && !spec_at<I + 2>::backward_reads_input;
    }
  }
  // Which scratch_ buffer a forward-only output uses: they alternate, so the one a layer reads
  // is never the one it writes (each lives from its layer to the consumer two layers on).
  template <std::size_t I>
  static constexpr std::size_t forward_only_buffer() {
    std::size_t count = 0;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((count += J < I && forward_only<J>() ? 1 : 0), ...);
    }(indices{});
    return count % 2;
  }
  template <std::size_t... I>
  static constexpr bool any_forward_only(std::index_sequence<I...>) {
    return (false || ... || forward_only<I>());
  }
  // Training: the activations_ slot holding layer I's output (I < length - 1).
  template <std::size_t I>
  static constexpr std::size_t slot() {
    if constexpr (in_place<I>()) return slot<I - 1>(); else return I;
  }
  // Inference: which of the two ping-pong buffers holds layer I's output.
  template <std::size_t I>
  static constexpr std::size_t side() {
    if constexpr (I == 0) return 0;
    else if constexpr (in_place<I>()) return side<I - 1>();
    else return 1 - side<I - 1>();
  }

  static constexpr std::size_t parameter_count = parameter_offsets[length];
  static constexpr std::size_t buffer_count = buffer_offsets[length];

  CTNN_COLD static std::vector<std::string> layer_names() { return {Layers::name()...}; }

  // Parameter segments of every layer with the layer's index, offsets relative to the sequence.
  CTNN_COLD static std::vector<std::pair<std::size_t, SegmentInfo>> segments() {
    std::vector<std::pair<std::size_t, SegmentInfo>> out;
    each([&]<std::size_t I>() {
      for (SegmentInfo s : object_at<I>::segments()) {
        s.offset += parameter_offsets[I];
        out.emplace_back(I, s);
      }
    });
    return out;
  }

  void bind(T* params, T* grads, T* buffers) {
    each([&]<std::size_t I>() {
      at<I>().bind(params + parameter_offsets[I], grads + parameter_offsets[I],
                   buffers + buffer_offsets[I]);
    });
  }

  void initialize(Rng& rng) {
    each([&]<std::size_t I>() { at<I>().initialize(rng); });
  }

  // x: (batch, In) => y: (batch, output_shape). In training mode keeps the intermediate
  // activations for backward; inference needs only two buffers, used in turn.
  void forward(const T* x, T* y, std::size_t batch, Mode mode, Rng& rng) {
    if constexpr (length == 0) {
      std::copy(x, x + batch * In::size, y);
    } else if (mode == Mode::inference) {
      if constexpr (length > 1)
        for (auto& b : ping_pong_) detail::ensure_size(b, batch * largest_activation);
      each([&]<std::size_t I>() {
        const T* in = x;
        T* out = y;
        if constexpr (I > 0) in = ping_pong_[side<I - 1>()].data();
        if constexpr (I + 1 < length) out = ping_pong_[side<I>()].data();
        run_forward<I>(in, out, batch, mode, rng);
      });
    } else {
      each([&]<std::size_t I>() {
        if constexpr (I + 1 < length && !in_place<I>() && !forward_only<I>())
          detail::ensure_size(activations_[I], batch * shape_at<I + 1>::size);
      });
      if constexpr (any_forward_only(indices{}))
        for (auto& g : scratch_) detail::ensure_size(g, batch * largest_activation);
      each([&]<std::size_t I>() { run_forward<I>(input_of<I>(x), output_of<I>(y), batch, mode, rng); });
    }
  }

  // After forward(x -> y): dy => dx (skipped when dx is null); parameter gradients overwritten.
  void backward(const T* x, const T* y, const T* dy, T* dx, std::size_t batch) {
    if constexpr (length == 0) {
      if (dx) std::copy(dy, dy + batch * In::size, dx);
    } else {
      for (auto& g : scratch_) detail::ensure_size(g, batch * largest_activation);
      each_reversed([&]<std::size_t I>() {
        if constexpr (!relu_backward_folded<I>()) {
          const T* d_out = dy;
          T* d_in = dx;
          if constexpr (I + 1 < length) d_out = scratch_[gradient_slot<I + 1>()].data();
          if constexpr (I > 0) d_in = scratch_[gradient_slot<I>()].data();
          const T* in = input_of<I>(x);
          const T* out = output_of<I>(const_cast<T*>(y));
          if constexpr (I > 0 && relu_backward_folded<I - (I > 0)>())
            at<I>().backward_through_relu(in, out, d_out, d_in, batch);
          else
            at<I>().backward(in, out, d_out, d_in, batch);
        }
      });
    }
  }

 private:
  template <std::size_t I>
  auto& at() { return boost::hana::at_c<I>(layers_); }

  template <std::size_t I>
  void run_forward(const T* in, T* out, std::size_t batch, Mode mode, Rng& rng) {
    if constexpr (fuses_relu<I>()) {
      at<I>().forward_relu(in, out, batch, mode, rng);
    } else if constexpr (I > 0 && fuses_relu<I - (I > 0)>()) {
      // this Relu ran as the previous layer's epilogue, in place
    } else {
      at<I>().forward(in, out, batch, mode, rng);
    }
  }

  template <std::size_t I>
  const T* input_of(const T* x) {
    if constexpr (I == 0) return x; else return activation<slot<I - 1>()>();
  }
  template <std::size_t I>
  T* output_of(T* y) {
    if constexpr (I + 1 == length) return y; else return activation<slot<I>()>();
  }
  // Training: the buffer of slot S (in backward, a forward-only slot holds gradients instead).
  template <std::size_t S>
  T* activation() {
    if constexpr (forward_only<S>()) return scratch_[forward_only_buffer<S>()].data();
    else return activations_[S].data();
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
  std::array<std::vector<T>, (length > 0 ? length - 1 : 0)> activations_;  // inner outputs
  std::array<std::vector<T>, 2> scratch_;  // ping-pong gradient buffers for backward
  std::array<std::vector<T>, (length > 1 ? 2 : 0)> ping_pong_;  // inference activations
};

}  // namespace ctnn
