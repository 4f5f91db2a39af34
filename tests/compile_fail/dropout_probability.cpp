// CTNN-E008: Dropout<1.0> would drop everything.
// expect: Dropout_probability_outside_0_1<ctnn::at_position<3>, ctnn::Dropout<1.0e\+0>, ctnn::received<ctnn::Shape<64> >
// expect: \[CTNN-E008\] Dropout<P> needs 0 <= P < 1
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<10>, Dense<64>, Relu, Dropout<1.0>, Dense<2>>;
Model net{1};
