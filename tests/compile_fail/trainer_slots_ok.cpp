// Positive control: every family in its own slot.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<4>, Dense<3>>;
using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<2, CosineDecay<>>, WeightDecay<1e-4>, EarlyStopping<5>>;
Train trainer{{.learning_rate = 1e-3, .batch_size = 64, .max_epochs = 30}};
