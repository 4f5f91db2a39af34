// Every layer's backward pass (and whole small nets) against central finite differences.
#include "gradient_check.hpp"

using namespace ctnn;
using testing::require_gradients_match;

template <class... L>
using Net64 = Network<double, L...>;

TEST_CASE("Conv gradients, with stride and padding", "[gradients]") {
  require_gradients_match<Net64<Input<2, 7, 7>, Conv<3, 3>>>();
  require_gradients_match<Net64<Input<2, 7, 6>, Conv<4, 3, 2, 1>>>();
  require_gradients_match<Net64<Input<3, 5, 5>, Conv<2, 1>>>();
  require_gradients_match<Net64<Input<1, 9, 9>, Conv<2, 4, 3, 2>>>();
}

TEST_CASE("Dense gradients", "[gradients]") {
  require_gradients_match<Net64<Input<7>, Dense<5>>>();
  require_gradients_match<Net64<Input<1>, Dense<1>>>(1);
}

TEST_CASE("Pooling gradients", "[gradients]") {
  require_gradients_match<Net64<Input<2, 6, 6>, MaxPool<2>>>();
  require_gradients_match<Net64<Input<2, 7, 7>, MaxPool<3, 2>>>();
  require_gradients_match<Net64<Input<2, 6, 5>, AvgPool<2>>>();
  require_gradients_match<Net64<Input<2, 7, 7>, AvgPool<3, 2>>>();
  require_gradients_match<Net64<Input<3, 4, 5>, GlobalAvgPool>>();
}

TEST_CASE("Activation gradients", "[gradients]") {
  require_gradients_match<Net64<Input<2, 3, 3>, Relu>>();
  require_gradients_match<Net64<Input<10>, LeakyRelu<>>>();
  require_gradients_match<Net64<Input<10>, LeakyRelu<0.2>>>();
  require_gradients_match<Net64<Input<10>, Sigmoid>>();
  require_gradients_match<Net64<Input<10>, Tanh>>();
}

TEST_CASE("Flatten and Dropout gradients", "[gradients]") {
  require_gradients_match<Net64<Input<2, 3, 3>, Flatten>>();
  require_gradients_match<Net64<Input<20>, Dropout<0.5>>>();
  require_gradients_match<Net64<Input<2, 3, 3>, Dropout<0.25>>>();
}

TEST_CASE("BatchNorm gradients, per channel and per feature", "[gradients]") {
  require_gradients_match<Net64<Input<3, 4, 4>, BatchNorm, Tanh>>(4);
  require_gradients_match<Net64<Input<6>, BatchNorm, Sigmoid>>(5);
}

TEST_CASE("Residual gradients", "[gradients]") {
  require_gradients_match<Net64<Input<2, 5, 5>, Residual<Conv<2, 3, 1, 1>, Tanh, Conv<2, 3, 1, 1>>>>();
  require_gradients_match<Net64<Input<6>, Residual<Dense<6>, Sigmoid>>>();
  require_gradients_match<Net64<Input<4>, Residual<>>>();
}

TEST_CASE("Whole small nets", "[gradients]") {
  require_gradients_match<Net64<Input<2, 8, 8>, Conv<3, 3, 1, 1>, BatchNorm, Relu, MaxPool<2>,
                                Conv<4, 3>, LeakyRelu<>, Flatten, Dense<5>, Tanh, Dropout<0.3>,
                                Dense<3>>>(4);
  // Winograd convolutions (3x3, stride 1, 16 channels and filters), each Relu's output kept in a
  // backward scratch buffer (Conv, Relu, MaxPool: read by nothing after the forward pass).
  require_gradients_match<Net64<Input<16, 6, 6>, Conv<16, 3, 1, 1>, Relu, MaxPool<2>,
                                Conv<16, 3, 1, 1>, Relu, MaxPool<2>, Flatten, Dense<3>>>(2);
  require_gradients_match<Net64<Input<1, 9, 9>, Conv<4, 3, 2, 1>, Relu,
                                Residual<Conv<4, 3, 1, 1>, BatchNorm, Relu>, AvgPool<2>,
                                GlobalAvgPool, Dense<2>>>(3);
}

template <class Loss>
void check_loss_gradient() {
  Rng rng(3);
  const std::size_t batch = 4, classes = 5;
  std::vector<double> z(batch * classes), grad(z.size());
  std::vector<std::int32_t> labels{0, 4, 2, 2};
  for (auto& v : z) v = rng.uniform(-2, 2);
  Loss::forward(z.data(), labels.data(), batch, classes, grad.data());
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double saved = z[i], eps = 1e-6;
    z[i] = saved + eps;
    const double up = Loss::forward(z.data(), labels.data(), batch, classes, (double*)nullptr);
    z[i] = saved - eps;
    const double down = Loss::forward(z.data(), labels.data(), batch, classes, (double*)nullptr);
    z[i] = saved;
    CHECK(testing::relative_error(grad[i], (up - down) / (2 * eps)) < 1e-7);
  }
}

TEST_CASE("Loss gradients", "[gradients]") {
  check_loss_gradient<SoftmaxCrossEntropy>();
  check_loss_gradient<MeanSquaredError>();
}

TEST_CASE("A whole net trained through the loss", "[gradients]") {
  // d(loss)/d(params) through SoftmaxCrossEntropy: the chain the trainer runs.
  using Model = Net64<Input<1, 6, 6>, Conv<2, 3>, Relu, Flatten, Dense<3>>;
  Model net{5};
  Rng rng(9);
  const std::size_t batch = 3;
  std::vector<double> x(batch * 36), dy(batch * 3);
  std::vector<std::int32_t> labels{2, 0, 1};
  for (auto& v : x) v = rng.uniform(-1, 1);
  auto loss = [&] {
    const double* y = net.forward_train(x.data(), batch);
    return SoftmaxCrossEntropy::forward(y, labels.data(), batch, 3, dy.data());
  };
  loss();
  net.backward(dy.data());
  const std::vector<double> analytic(net.gradients().begin(), net.gradients().end());
  auto params = net.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const double saved = params[i], eps = 1e-6;
    params[i] = saved + eps;
    const double up = loss();
    params[i] = saved - eps;
    const double down = loss();
    params[i] = saved;
    CHECK(testing::relative_error(analytic[i], (up - down) / (2 * eps)) < 1e-7);
  }
}
