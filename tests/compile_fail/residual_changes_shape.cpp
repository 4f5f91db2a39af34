// CTNN-E006: the residual branch must return its input shape; both shapes are named.
// expect: Residual_branch_changes_the_shape<ctnn::at_position<2>, ctnn::Residual<ctnn::Conv<16, 3(, 1, 0)?>, ctnn::Relu>, ctnn::received<ctnn::Shape<16, 12, 12> >, ctnn::branch_output<ctnn::Shape<16, 10, 10> >
// expect: \[CTNN-E006\] a Residual branch must return the shape it received
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<3, 14, 14>, Conv<16, 3>, Residual<Conv<16, 3>, Relu>, GlobalAvgPool, Dense<2>>;
Model net{1};
