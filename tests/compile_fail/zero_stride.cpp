// CTNN-E007: stride 0.
// expect: hyperparameter_is_zero<ctnn::at_position<1>, ctnn::Conv<4, 3, 0(, 0)?>, ctnn::received<ctnn::Shape<1, 8, 8> >
// expect: \[CTNN-E007\]
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<1, 8, 8>, Conv<4, 3, 0>, Flatten, Dense<10>>;
Model net{1};
