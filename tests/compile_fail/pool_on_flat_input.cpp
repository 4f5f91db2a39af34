// CTNN-E004: pooling on a flat input.
// expect: layer_needs_a_C_H_W_input<ctnn::at_position<2>, ctnn::MaxPool<2(, 2)?>, ctnn::received<ctnn::Shape<64> >
// expect: \[CTNN-E004\]
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<64>, Dense<64>, MaxPool<2>>;
Model net{1};
