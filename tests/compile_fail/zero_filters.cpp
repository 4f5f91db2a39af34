// CTNN-E007: zero filters.
// expect: hyperparameter_is_zero<ctnn::at_position<1>, ctnn::Conv<0, 3(, 1, 0)?>, ctnn::received<ctnn::Shape<1, 28, 28> >
// expect: \[CTNN-E007\] filters, units, kernel, window and stride must be at least 1
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<1, 28, 28>, Conv<0, 3>, Flatten, Dense<10>>;
Model net{1};
