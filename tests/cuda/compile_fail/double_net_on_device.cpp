// The device computes in float: a rebind<double> net is one error that says what to use.
// expect: DeviceNet runs float networks
// max-lines: 12
#include <ctnn/ctnn.hpp>
#include <ctnn/cuda/cuda.hpp>
using namespace ctnn;
using Model = Net<Input<4>, Dense<2>>::rebind<double>;
int main() { cuda::DeviceNet<Model> net(1); }
