// CTNN-E005: a 7x7 kernel on a 5x5 input without padding.
// expect: window_larger_than_input<ctnn::at_position<2>, ctnn::Conv<4, 7(, 1, 0)?>, ctnn::received<ctnn::Shape<3, 5, 5> >
// expect: \[CTNN-E005\] kernel/window is larger than the \(padded\) input
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<1, 5, 5>, Conv<3, 1>, Conv<4, 7>, Flatten, Dense<2>>;
Model net{1};
