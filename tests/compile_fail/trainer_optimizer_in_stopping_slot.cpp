// An optimizer passed where the stopping rule goes.
// expect: check_stopping_slot<ctnn::Adam<
// expect: Trainer's 6th argument \(the stopping slot\) expects a stopping rule such as ctnn::MaxEpochs or ctnn::EarlyStopping<5>; got an optimizer
// max-lines: 20
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<4>, Dense<3>>;
using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Constant, NoRegularizer, Adam<>>;
Train trainer{};
