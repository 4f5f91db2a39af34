// A schedule passed where the optimizer goes: one short error naming the slot and the type.
// expect: check_optimizer_slot<ctnn::CosineDecay<
// expect: Trainer's 3rd argument \(the optimizer slot\) expects an optimizer such as ctnn::Adam<> or ctnn::Sgd<>; got a schedule
// max-lines: 20
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<4>, Dense<3>>;
using Train = Trainer<Model, SoftmaxCrossEntropy, CosineDecay<>, Constant>;
Train trainer{};
