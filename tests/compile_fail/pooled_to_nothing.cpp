// CTNN-E005: one MaxPool too many (the output would be empty).
// expect: window_larger_than_input<ctnn::at_position<4>, ctnn::MaxPool<2(, 2)?>, ctnn::received<ctnn::Shape<8, 1, 1> >
// expect: \[CTNN-E005\]
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<1, 8, 8>, Conv<8, 3, 1, 1>, MaxPool<4>, MaxPool<2>, MaxPool<2>, Flatten, Dense<2>>;
Model net{1};
