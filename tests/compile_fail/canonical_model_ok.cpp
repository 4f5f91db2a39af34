// Positive control: the model compiles, with the documented shapes and count.
#include <ctnn/ctnn.hpp>
using namespace ctnn;
using Model = Net<Input<1, 28, 28>, Conv<32, 3>, Relu, MaxPool<2>, Conv<64, 3>, Relu, MaxPool<2>,
                  Flatten, Dense<128>, Relu, Dropout<0.5>, Dense<10>>;
static_assert(std::is_same_v<Model::output_shape, Shape<10>>);
static_assert(Model::parameter_count == 225034);
using WithResidual = Net<Input<3, 14, 14>, Conv<16, 3>, Residual<Conv<16, 3, 1, 1>, Relu>, GlobalAvgPool, Dense<2>>;
static_assert(std::is_same_v<WithResidual::output_shape, Shape<2>>);
