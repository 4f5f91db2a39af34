// A user optimizer without a device twin: one error listing the optimizers the GPU runs.
// expect: this optimizer has no device version
// expect: Sgd, Adam, AdamW and RmsProp
// max-lines: 12
#include <ctnn/ctnn.hpp>
#include <ctnn/cuda/cuda.hpp>
using namespace ctnn;
using Model = Net<Input<4>, Dense<2>>;
template <class T = float>
struct MySgd : Sgd<0.0, false, T> {
  static constexpr std::string_view kind = "optimizer";
  template <class U>
  using rebind = MySgd<U>;
  using Sgd<0.0, false, T>::Sgd;
};
int main() {
  Model net{1};
  data::Dataset d;
  cuda::Trainer<Model, SoftmaxCrossEntropy, MySgd<>>{}.fit(net, d, d);
}
