// CTNN-E009: Input<0, 28, 28>.
// expect: Input_dimension_is_zero<ctnn::at_position<0>, ctnn::Input<0, 28, 28>
// expect: \[CTNN-E009\] every dimension of Input<...> must be at least 1
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<0, 28, 28>, Flatten, Dense<10>>;
Model net{1};
