// CTNN-E002: something that is not a layer in the list.
// expect: not_a_layer<ctnn::at_position<2>, int, ctnn::received<ctnn::Shape<8> >
// expect: \[CTNN-E002\] this type is not a ctnn layer
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<16>, Dense<8>, int, Dense<2>>;
Model net{1};
