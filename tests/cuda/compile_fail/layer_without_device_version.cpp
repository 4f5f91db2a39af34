// A layer spec without a device twin: one error naming the missing specialisation.
// expect: no device version
// expect: device_layer<MyLayer
// max-lines: 12
#include <ctnn/ctnn.hpp>
#include <ctnn/cuda/cuda.hpp>
using namespace ctnn;
struct MyLayer : LayerSpecBase {
  static std::string name() { return "MyLayer"; }
  template <class In>
  static constexpr Rule check() { return Rule::ok; }
  template <class In>
  using output_shape = In;
  template <class In, class T>
  struct layer : ParameterFree<T> {
    void forward(const T*, T*, std::size_t, Mode, Rng&) {}
    void backward(const T*, const T*, const T*, T*, std::size_t) {}
  };
};
using Model = Net<Input<4>, MyLayer, Dense<2>>;
int main() { cuda::DeviceNet<Model> net(1); }
