// CTNN-E003: Dense on a C,H,W input. Later layers must stay silent (one error, no cascade).
// expect: Dense_needs_a_flat_input<ctnn::at_position<3>, ctnn::Dense<128>, ctnn::received<ctnn::Shape<32, 13, 13> >
// expect: \[CTNN-E003\] Dense needs a flat input: insert ctnn::Flatten before it
// max-lines: 20
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<1, 28, 28>, Conv<32, 3>, MaxPool<2>, Dense<128>, Relu, Dropout<0.5>, Dense<10>>;
Model net{1};
