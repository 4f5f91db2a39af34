// CTNN-E007: Dense<0>.
// expect: hyperparameter_is_zero<ctnn::at_position<2>, ctnn::Dense<0>, ctnn::received<ctnn::Shape<32> >
// expect: \[CTNN-E007\]
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<32>, Relu, Dense<0>, Dense<10>>;
Model net{1};
