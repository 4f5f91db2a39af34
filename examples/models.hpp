#pragma once
// The example networks, shared by the examples and the benchmarks.
#include <ctnn/ctnn.hpp>

namespace examples {
using namespace ctnn;

// The Fashion-MNIST CNN (the canonical net of the benchmarks).
using FashionMnistModel = Net<Input<1, 28, 28>,
                              Conv<32, 3>, Relu, MaxPool<2>,
                              Conv<64, 3>, Relu, MaxPool<2>,
                              Flatten, Dense<128>, Relu, Dropout<0.5>,
                              Dense<10>>;

// The 10-layer CNN of the motivating question: 3x384x384 images, two classes.
using Cnn384Model = Net<Input<3, 384, 384>,
                        Conv<32, 3, 1, 1>, Relu, Conv<32, 3, 1, 1>, Relu, MaxPool<2>,
                        Conv<64, 3, 1, 1>, Relu, Conv<64, 3, 1, 1>, Relu, MaxPool<2>,
                        Conv<128, 3, 1, 1>, Relu, Conv<128, 3, 1, 1>, Relu, MaxPool<2>,
                        Conv<256, 3, 1, 1>, Relu, Conv<256, 3, 1, 1>, Relu, MaxPool<2>,
                        GlobalAvgPool, Dense<256>, Relu, Dropout<0.5>, Dense<2>>;
}  // namespace examples
