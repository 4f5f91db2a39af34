// Net's public contract: static shapes and counts, deterministic initialisation, inference vs
// training passes, the flat parameter layout, copies, summaries and signatures.
#include <catch2/catch.hpp>
#include <ctnn/ctnn.hpp>

using namespace ctnn;

using Model = Net<Input<1, 28, 28>, Conv<32, 3>, Relu, MaxPool<2>, Conv<64, 3>, Relu, MaxPool<2>,
                  Flatten, Dense<128>, Relu, Dropout<0.5>, Dense<10>>;

// Shape algebra, all at compile time.
static_assert(Shape<3, 4, 5>::rank == 3 && Shape<3, 4, 5>::size == 60);
static_assert(Shape<3, 4, 5>::dims[1] == 4);
static_assert(std::is_same_v<Model::input_shape, Shape<1, 28, 28>>);
static_assert(std::is_same_v<Model::output_shape, Shape<10>>);
static_assert(Model::parameter_count == 225034);
static_assert(window_output(28, 3, 1, 0) == 26 && window_output(7, 3, 2, 1) == 4);
static_assert(window_output(5, 7, 1, 0) == 0 && window_output(5, 7, 1, 1) == 1);
static_assert(std::is_same_v<Net<Input<3, 32, 32>, Conv<8, 3, 2, 1>>::output_shape, Shape<8, 16, 16>>);
static_assert(std::is_same_v<Net<Input<3, 7, 7>, MaxPool<3, 2>>::output_shape, Shape<3, 3, 3>>);
static_assert(std::is_same_v<Net<Input<3, 7, 6>, AvgPool<2>>::output_shape, Shape<3, 3, 3>>);
static_assert(std::is_same_v<Net<Input<5, 7, 6>, GlobalAvgPool>::output_shape, Shape<5>>);
static_assert(Net<Input<4, 3, 3>, BatchNorm>::parameter_count == 8);
static_assert(Net<Input<4, 3, 3>, BatchNorm>::buffer_count == 8);
static_assert(Net<Input<8, 6, 6>, Residual<Conv<8, 3, 1, 1>, Relu>>::parameter_count == 8 * 8 * 9 + 8);

TEST_CASE("the same seed gives the same weights, another seed other weights", "[net]") {
  Model a{42}, b{42}, c{43};
  REQUIRE(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  REQUIRE_FALSE(std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
  // PyTorch's default bounds: conv1 fan-in 9 => |w| <= 1/3.
  for (std::size_t i = 0; i < 320; ++i) REQUIRE(std::abs(a.parameters()[i]) <= 1.0f / 3.0f);
}

TEST_CASE("forward is inference: deterministic, Dropout is the identity", "[net]") {
  Model net{1};
  Rng rng(5);
  xt::xtensor<float, 4> x({3, 1, 28, 28});
  for (auto& v : x) v = float(rng.uniform());
  const auto y1 = net.forward(x);
  const auto y2 = net.forward(x);
  REQUIRE(y1.shape()[0] == 3);
  REQUIRE(y1.shape()[1] == 10);
  REQUIRE((y1 == y2));
  // Training mode drops units, so it differs from inference.
  const float* yt = net.forward_train(x.data(), 3);
  bool differs = false;
  for (std::size_t i = 0; i < 30; ++i) differs |= yt[i] != y1.data()[i];
  REQUIRE(differs);
}

TEST_CASE("forward rejects a tensor of the wrong shape with both shapes named", "[net]") {
  Model net{1};
  xt::xtensor<float, 4> x({2, 1, 32, 32});
  REQUIRE_THROWS_WITH(net.forward(x), Catch::Contains("(batch, 1, 28, 28)") && Catch::Contains("(2, 1, 32, 32)"));
}

TEST_CASE("parameter segments cover the flat array in order", "[net]") {
  const auto& segments = Model::parameter_segments();
  REQUIRE(segments.size() == 8);
  std::size_t offset = 0;
  for (const auto& s : segments) {
    REQUIRE(s.offset == offset);
    offset += s.size;
  }
  REQUIRE(offset == Model::parameter_count);
  REQUIRE(segments[0].layer_name == "Conv<32, 3, 1, 0>");
  REQUIRE(segments[0].layer_index == 1);
  REQUIRE(segments[0].name == "weight");
  REQUIRE(segments[0].decay);
  REQUIRE(segments[1].name == "bias");
  REQUIRE_FALSE(segments[1].decay);
  REQUIRE(segments[6].layer_name == "Dense<10>");
  REQUIRE(segments[6].layer_index == 11);

  using WithNorm = Net<Input<2, 4, 4>, Residual<Conv<2, 3, 1, 1>, BatchNorm>, Flatten, Dense<3>>;
  const auto& s2 = WithNorm::parameter_segments();
  REQUIRE(s2.size() == 6);
  REQUIRE(s2[2].name == "2.gamma");
  REQUIRE_FALSE(s2[2].decay);
}

TEST_CASE("copies own their parameters; moves keep them", "[net]") {
  Model a{3};
  Model b = a;
  b.parameters()[0] += 1.0f;
  REQUIRE(a.parameters()[0] != b.parameters()[0]);
  xt::xtensor<float, 4> x = xt::ones<float>({1, 1, 28, 28});
  Model c{3};
  REQUIRE((c.forward(x) == a.forward(x)));
  Model moved = std::move(c);
  REQUIRE((moved.forward(x) == a.forward(x)));
  b = a;  // copy-assign restores the weights the layers see
  REQUIRE((b.forward(x) == a.forward(x)));
}

TEST_CASE("summary is a Keras-like table with the total", "[net]") {
  const std::string s = Model::summary();
  REQUIRE_THAT(s, Catch::Contains("Conv<32, 3, 1, 0>") && Catch::Contains("(batch, 32, 26, 26)") &&
                      Catch::Contains("320") && Catch::Contains("204,928") &&
                      Catch::Contains("Total params: 225,034"));
}

TEST_CASE("signature names every layer and shape", "[net]") {
  REQUIRE(Net<Input<4>, Dense<3>, Sigmoid>::signature() == "Input<4>|Dense<3>->Shape<3>|Sigmoid->Shape<3>");
  REQUIRE(Net<Input<4>, Dense<3>>::signature() != Net<Input<4>, Dense<2>>::signature());
}

TEST_CASE("rebind gives the same layers in double", "[net]") {
  using Model64 = Model::rebind<double>;
  static_assert(std::is_same_v<Model64::scalar_type, double>);
  Model f{7};
  Model64 d{7};
  xt::xtensor<float, 4> xf = xt::ones<float>({2, 1, 28, 28});
  xt::xtensor<double, 4> xd = xt::ones<double>({2, 1, 28, 28});
  const auto yf = f.forward(xf);
  const auto yd = d.forward(xd);
  for (std::size_t i = 0; i < yf.size(); ++i) REQUIRE(yf.data()[i] == Approx(yd.data()[i]).margin(1e-4));
}

TEST_CASE("BatchNorm: running statistics move in training, are used at inference", "[net]") {
  using M = Net<Input<2, 3, 3>, BatchNorm>;
  M net{1};
  std::vector<float> x(4 * 18);
  Rng rng(2);
  for (auto& v : x) v = float(rng.uniform(3, 5));  // mean near 4
  net.forward_train(x.data(), 4);
  REQUIRE(net.buffers()[0] > 0.2f);  // running mean moved from 0 by momentum 0.1
  const float inference = net.predict(x.data(), 4)[0];  // running statistics
  const float training = net.forward_train(x.data(), 4)[0];  // batch statistics
  REQUIRE(inference != Approx(training));
}

TEST_CASE("a batch larger than before, then smaller, reuses buffers correctly", "[net]") {
  Model net{9};
  std::vector<float> x(5 * 784);
  Rng rng(1);
  for (auto& v : x) v = float(rng.uniform());
  const float* y5 = net.predict(x.data(), 5);
  const std::vector<float> first(y5, y5 + 10);
  net.predict(x.data(), 1);
  const float* y1 = net.predict(x.data(), 1);
  for (std::size_t i = 0; i < 10; ++i) REQUIRE(y1[i] == first[i]);
}

TEST_CASE("Relu runs in place where nothing needs its input; inference uses two buffers",
          "[net]") {
  // Relu after Conv, after Relu, after Sigmoid (which reads its own output in backward, so that
  // Relu may not overwrite it), inside a Residual, and as the last layer.
  using Chain = Net<Input<2, 9, 9>, Conv<4, 3, 1, 1>, Relu, Relu, Sigmoid, Relu,
                    Residual<Conv<4, 3, 1, 1>, Relu>, Tanh, Relu, Flatten, Dense<5>, Relu>;
  using Seq = Sequence<float, Shape<2, 9, 9>, Conv<4, 3, 1, 1>, Relu, Relu, Sigmoid, Relu,
                       Residual<Conv<4, 3, 1, 1>, Relu>, Tanh, Relu, Flatten, Dense<5>, Relu>;
  STATIC_REQUIRE(!Seq::in_place<0>());  // the caller's input
  STATIC_REQUIRE(Seq::in_place<1>());
  STATIC_REQUIRE(Seq::in_place<2>());
  STATIC_REQUIRE(!Seq::in_place<4>());  // after Sigmoid
  STATIC_REQUIRE(!Seq::in_place<7>());  // after Tanh
  STATIC_REQUIRE(!Seq::in_place<10>()); // the last layer writes the caller's output
  STATIC_REQUIRE(Seq::slot<2>() == 0);
  STATIC_REQUIRE(Seq::fuses_relu<0>());   // Conv applies the in-place Relu after it
  STATIC_REQUIRE(!Seq::fuses_relu<1>());  // Relu has no epilogue
  STATIC_REQUIRE(!Seq::fuses_relu<9>());  // Dense, then the last layer (not in place)
  using Pooled = Sequence<float, Shape<2, 8, 8>, Conv<4, 3, 1, 1>, Relu, MaxPool<2>, Relu, MaxPool<2>,
                          Flatten, Dense<3>>;
  STATIC_REQUIRE(Pooled::relu_backward_folded<1>());  // MaxPool's backward applies it
  STATIC_REQUIRE(Pooled::relu_backward_folded<3>());
  STATIC_REQUIRE(Pooled::gradient_slot<1>() == Pooled::gradient_slot<2>());
  STATIC_REQUIRE(Pooled::gradient_slot<2>() != Pooled::gradient_slot<4>());
  STATIC_REQUIRE(!Seq::relu_backward_folded<1>());  // Relu, Relu: the second has no such backward
  // Conv, Relu, MaxPool: the Relu's output is read by nothing after the forward pass, so it
  // lives in a backward scratch buffer. Not the first MaxPool's: its backward (through the
  // second Relu) reads it. Not where the Relu's backward runs (Seq's first Conv).
  STATIC_REQUIRE(Pooled::forward_only<0>());
  STATIC_REQUIRE(!Pooled::forward_only<2>());
  STATIC_REQUIRE(!Seq::forward_only<0>());
  STATIC_REQUIRE(!Seq::forward_only<8>());

  STATIC_REQUIRE(Seq::side<1>() == Seq::side<0>());
  STATIC_REQUIRE(Seq::side<3>() != Seq::side<2>());

  // The same values as the same net in double, where in-place makes no difference to rounding,
  // and the gradients of forward_train/backward agree with inference's output.
  Chain net{7};
  Chain::rebind<double> twin{7};
  Rng rng(5);
  const std::size_t batch = 3;
  std::vector<float> x(batch * Chain::input_shape::size);
  std::vector<double> xd(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) xd[i] = x[i] = float(rng.uniform(-1, 1));
  const float* y = net.predict(x.data(), batch);
  const double* yd = twin.predict(xd.data(), batch);
  for (std::size_t i = 0; i < batch * 5; ++i) CHECK(y[i] == Approx(yd[i]).margin(1e-5));
  std::vector<float> inference(y, y + batch * 5);
  const float* yt = net.forward_train(x.data(), batch);  // no Dropout: the same function
  for (std::size_t i = 0; i < batch * 5; ++i) CHECK(yt[i] == inference[i]);
}
