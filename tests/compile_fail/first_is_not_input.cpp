// CTNN-E001: the list must start with Input<...>.
// expect: first_argument_is_not_an_Input<ctnn::at_position<0>, ctnn::Conv<8, 3(, 1, 0)?>
// expect: \[CTNN-E001\] Net must start with ctnn::Input
// max-lines: 20
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Conv<8, 3>, Relu, Flatten, Dense<10>>;
Model net{1};
