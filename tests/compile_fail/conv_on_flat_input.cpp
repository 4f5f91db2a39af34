// CTNN-E004: Conv after Flatten.
// expect: layer_needs_a_C_H_W_input<ctnn::at_position<3>, ctnn::Conv<16, 3(, 1, 0)?>, ctnn::received<ctnn::Shape<784> >
// expect: \[CTNN-E004\] this layer needs a C,H,W input
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<1, 28, 28>, Flatten, Relu, Conv<16, 3>, Dense<10>>;
Model net{1};
