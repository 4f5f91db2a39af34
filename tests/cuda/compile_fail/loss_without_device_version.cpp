// A loss without a device twin in cuda::Trainer: one error saying which losses run on the GPU.
// expect: this loss has no device version
// expect: SoftmaxCrossEntropy and MeanSquaredError
// max-lines: 12
#include <ctnn/ctnn.hpp>
#include <ctnn/cuda/cuda.hpp>
using namespace ctnn;
using Model = Net<Input<4>, Dense<2>>;
struct MyLoss {
  static std::string name() { return "MyLoss"; }
  template <class T>
  static T forward(const T*, const std::int32_t*, std::size_t, std::size_t, T*) { return T(0); }
};
int main() {
  Model net{1};
  data::Dataset d;
  cuda::Trainer<Model, MyLoss>{}.fit(net, d, d);
}
