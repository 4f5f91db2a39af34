// ctnn against PyTorch: forward outputs of every layer family, BatchNorm training statistics,
// both losses (value and gradient), and a whole small net's eval forward and training backward,
// on the same weights and inputs. The reference numbers come from tests/fixtures/pytorch_*.txt,
// written in float64 by tests/fixtures/make_fixtures.py (regenerate with
// `/usr/bin/python3 tests/fixtures/make_fixtures.py`).
//
// Tolerances: double nets must agree to 1e-10 (|got - want| <= tol * max(1, |want|)); the float
// nets, fed the same numbers rounded to float, to 1e-5.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#ifndef CTNN_SOURCE_DIR
#error "CTNN_SOURCE_DIR (the repository root) must be defined to find tests/fixtures"
#endif

using namespace ctnn;

namespace {

constexpr double double_tolerance = 1e-10;
constexpr double float_tolerance = 1e-5;

// One fixture file: named flat arrays of doubles.
class Fixture {
 public:
  explicit Fixture(const std::string& name)
      : path_(std::string(CTNN_SOURCE_DIR) + "/tests/fixtures/pytorch_" + name + ".txt") {
    std::ifstream in(path_);
    if (!in)
      FAIL("missing PyTorch fixture " << path_
                                      << " (regenerate: /usr/bin/python3 tests/fixtures/make_fixtures.py)");
    std::string line;
    std::size_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (line.empty() || line[0] == '#') continue;
      std::istringstream words(line);
      std::string key, token;
      std::size_t count = 0;
      if (!(words >> key >> count)) FAIL(where(line_number) << ": expected `name count values...`");
      std::vector<double> values;
      values.reserve(count);
      while (words >> token) {
        double v = 0;
        const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
        if (ec != std::errc{} || end != token.data() + token.size())
          FAIL(where(line_number) << ": bad number '" << token << "' in " << key);
        values.push_back(v);
      }
      if (values.size() != count)
        FAIL(where(line_number) << ": " << key << " declares " << count << " values, has "
                                << values.size());
      arrays_[key] = std::move(values);
    }
  }

  // The array `key`, which must hold exactly `expected` values.
  const std::vector<double>& get(const std::string& key, std::size_t expected) const {
    const auto it = arrays_.find(key);
    if (it == arrays_.end()) FAIL(path_ << ": no array '" << key << "'");
    if (it->second.size() != expected)
      FAIL(path_ << ": '" << key << "' has " << it->second.size() << " values, the ctnn type needs "
                 << expected << " (fixture and test disagree on the architecture)");
    return it->second;
  }
  double scalar(const std::string& key) const { return get(key, 1)[0]; }
  std::size_t size_of(const std::string& key) const { return static_cast<std::size_t>(scalar(key)); }
  std::vector<std::int32_t> labels(const std::string& key, std::size_t expected) const {
    std::vector<std::int32_t> out;
    for (double v : get(key, expected)) out.push_back(static_cast<std::int32_t>(v));
    return out;
  }
  const std::string& path() const { return path_; }

 private:
  std::string where(std::size_t line) const { return path_ + ":" + std::to_string(line); }
  std::string path_;
  std::map<std::string, std::vector<double>> arrays_;
};

template <class T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Every got[i] within tol * max(1, |want[i]|) of want[i]; reports the worst element.
template <class T>
void require_close(const std::string& what, const T* got, const std::vector<double>& want, double tol) {
  REQUIRE(!want.empty());
  double worst = 0;
  std::size_t worst_index = 0;
  bool finite = true;
  for (std::size_t i = 0; i < want.size(); ++i) {
    double err = std::abs(double(got[i]) - want[i]) / std::max(1.0, std::abs(want[i]));
    if (!std::isfinite(err)) err = INFINITY, finite = false;  // NaN or overflow in ctnn
    if (err > worst) worst = err, worst_index = i;
  }
  INFO(std::setprecision(17) << what << ": worst element " << worst_index << " of " << want.size() << ": ctnn "
            << double(got[worst_index]) << ", PyTorch " << want[worst_index] << ", error "
            << worst << " (tolerance " << tol << ")");
  CHECK(finite);
  CHECK(worst <= tol);
}
template <class T>
void require_close(const std::string& what, const std::vector<T>& got, const std::vector<double>& want,
                   double tol) {
  REQUIRE(got.size() == want.size());
  require_close(what, got.data(), want, tol);
}

template <class Model>
constexpr double tolerance_for() {
  return std::is_same_v<typename Model::scalar_type, double> ? double_tolerance : float_tolerance;
}

// Fixture with batch, x, params, y: inference forward of Model (any scalar type).
template <class Model>
void check_forward(const std::string& name) {
  using T = typename Model::scalar_type;
  using In = typename Model::input_shape;
  using Out = typename Model::output_shape;
  INFO("case " << name << ", scalar " << (sizeof(T) == 8 ? "double" : "float"));
  const Fixture f(name);
  const std::size_t batch = f.size_of("batch");
  const auto x = as<T>(f.get("x", batch * In::size));
  const auto& params = f.get("params", Model::parameter_count);
  const auto& y = f.get("y", batch * Out::size);

  Model net{1};
  std::copy(params.begin(), params.end(), net.parameters().begin());
  const T* out = net.predict(x.data(), batch);
  require_close(name + " forward", out, y, tolerance_for<Model>());

  // The same through the xtensor interface.
  std::array<std::size_t, In::rank + 1> shape{batch};
  std::copy(In::dims.begin(), In::dims.end(), shape.begin() + 1);
  xt::xtensor<T, In::rank + 1> xt(shape);
  std::copy(x.begin(), x.end(), xt.data());
  const auto yt = net.forward(xt);
  REQUIRE(yt.size() == y.size());
  require_close(name + " forward(xtensor)", yt.data(), y, tolerance_for<Model>());
}

template <class Model>
void check_forward_double_and_float(const std::string& name) {
  check_forward<typename Model::template rebind<double>>(name);
  check_forward<typename Model::template rebind<float>>(name);
}

// Fixture with params, buffers0, x1/y1_train/buffers1, x2/y2_train/buffers2, x3/y3_eval.
template <class Model>
void check_batch_norm(const std::string& name) {
  using T = typename Model::scalar_type;
  using In = typename Model::input_shape;
  INFO("case " << name << ", scalar " << (sizeof(T) == 8 ? "double" : "float"));
  const double tol = tolerance_for<Model>();
  const Fixture f(name);
  const std::size_t batch = f.size_of("batch");
  const std::size_t n = batch * In::size;

  Model net{1};
  const auto& params = f.get("params", Model::parameter_count);
  const auto& buffers0 = f.get("buffers0", Model::buffer_count);
  std::copy(params.begin(), params.end(), net.parameters().begin());
  std::copy(buffers0.begin(), buffers0.end(), net.buffers().begin());

  const auto x1 = as<T>(f.get("x1", n)), x2 = as<T>(f.get("x2", n)), x3 = as<T>(f.get("x3", n));
  require_close(name + " training output, step 1", net.forward_train(x1.data(), batch),
                f.get("y1_train", n), tol);
  require_close(name + " running mean/var after step 1", net.buffers().data(),
                f.get("buffers1", Model::buffer_count), tol);
  require_close(name + " training output, step 2", net.forward_train(x2.data(), batch),
                f.get("y2_train", n), tol);
  require_close(name + " running mean/var after step 2", net.buffers().data(),
                f.get("buffers2", Model::buffer_count), tol);
  require_close(name + " inference output", net.predict(x3.data(), batch), f.get("y3_eval", n), tol);
  // Inference leaves the statistics alone.
  require_close(name + " running mean/var after inference", net.buffers().data(),
                f.get("buffers2", Model::buffer_count), tol);
}

template <class... L>
using Net64 = Network<double, L...>;

}  // namespace

TEST_CASE("PyTorch reference: Conv forward, strides, paddings, kernels, non-square inputs",
          "[pytorch]") {
  check_forward_double_and_float<Net64<Input<2, 6, 6>, Conv<3, 3>>>("conv_k3_s1_p0");
  check_forward_double_and_float<Net64<Input<3, 5, 7>, Conv<4, 3, 1, 1>>>("conv_k3_s1_p1_nonsquare");
  check_forward_double_and_float<Net64<Input<3, 7, 6>, Conv<4, 3, 2, 1>>>("conv_k3_s2_p1_nonsquare");
  check_forward_double_and_float<Net64<Input<3, 5, 4>, Conv<2, 1>>>("conv_k1_s1_p0");
  check_forward_double_and_float<Net64<Input<2, 9, 8>, Conv<3, 4, 3, 2>>>("conv_k4_s3_p2");
  check_forward_double_and_float<Net64<Input<1, 5, 8>, Conv<2, 5, 1, 2>>>("conv_k5_s1_p2_nonsquare");
  check_forward_double_and_float<Net64<Input<2, 7, 5>, Conv<3, 2, 2, 0>>>("conv_k2_s2_p0_odd");
  check_forward_double_and_float<Net64<Input<2, 3, 4>, Conv<2, 3, 1, 2>>>("conv_k3_s1_p2_full");
}

TEST_CASE("PyTorch reference: MaxPool, AvgPool and GlobalAvgPool forward", "[pytorch]") {
  check_forward_double_and_float<Net64<Input<2, 6, 6>, MaxPool<2>>>("maxpool_w2");
  check_forward_double_and_float<Net64<Input<2, 5, 7>, MaxPool<2>>>("maxpool_w2_odd");
  check_forward_double_and_float<Net64<Input<3, 7, 7>, MaxPool<3, 2>>>("maxpool_w3_s2");
  check_forward_double_and_float<Net64<Input<2, 7, 6>, MaxPool<3, 2>>>("maxpool_w3_s2_nonsquare");
  check_forward_double_and_float<Net64<Input<2, 6, 6>, AvgPool<2>>>("avgpool_w2");
  check_forward_double_and_float<Net64<Input<2, 7, 7>, AvgPool<3, 2>>>("avgpool_w3_s2");
  check_forward_double_and_float<Net64<Input<3, 5, 6>, AvgPool<2, 1>>>("avgpool_w2_s1_nonsquare");
  check_forward_double_and_float<Net64<Input<3, 4, 5>, GlobalAvgPool>>("global_avgpool");
}

TEST_CASE("PyTorch reference: Dense and Flatten forward", "[pytorch]") {
  check_forward_double_and_float<Net64<Input<7>, Dense<5>>>("dense_7_to_5");
  check_forward_double_and_float<Net64<Input<1>, Dense<1>>>("dense_1_to_1");
  check_forward_double_and_float<Net64<Input<2, 3, 3>, Flatten, Dense<4>>>("flatten_dense");
}

TEST_CASE("PyTorch reference: activations forward", "[pytorch]") {
  check_forward_double_and_float<Net64<Input<2, 3, 4>, Relu>>("relu");
  check_forward_double_and_float<Net64<Input<10>, LeakyRelu<0.2>>>("leaky_relu_0.2");
  check_forward_double_and_float<Net64<Input<10>, Sigmoid>>("sigmoid");
  check_forward_double_and_float<Net64<Input<10>, Tanh>>("tanh");
}

TEST_CASE("PyTorch reference: BatchNorm training output, running statistics, inference",
          "[pytorch]") {
  check_batch_norm<Net64<Input<3, 4, 5>, BatchNorm>>("batchnorm2d");
  check_batch_norm<Net64<Input<6>, BatchNorm>>("batchnorm1d");
  check_batch_norm<Net<Input<3, 4, 5>, BatchNorm>>("batchnorm2d");
  check_batch_norm<Net<Input<6>, BatchNorm>>("batchnorm1d");
}

TEST_CASE("PyTorch reference: SoftmaxCrossEntropy value and gradient", "[pytorch]") {
  for (const std::string name : {"cross_entropy", "cross_entropy_large_logits"}) {
    INFO("case " << name);
    const Fixture f(name);
    const std::size_t batch = f.size_of("batch"), classes = f.size_of("classes");
    const auto& logits = f.get("logits", batch * classes);
    const auto labels = f.labels("labels", batch);
    std::vector<double> grad(batch * classes, NAN);
    const double loss = SoftmaxCrossEntropy::forward(logits.data(), labels.data(), batch, classes,
                                                     grad.data());
    require_close(name + " loss", &loss, f.get("loss", 1), double_tolerance);
    require_close(name + " gradient", grad, f.get("grad", batch * classes), double_tolerance);
    // Without a gradient buffer, the same value.
    const double loss_only = SoftmaxCrossEntropy::forward(logits.data(), labels.data(), batch,
                                                          classes, static_cast<double*>(nullptr));
    CHECK(loss_only == loss);
  }
}

TEST_CASE("PyTorch reference: MeanSquaredError value and gradient", "[pytorch]") {
  {
    const Fixture f("mse");
    const std::size_t batch = f.size_of("batch"), width = f.size_of("width");
    const auto& out = f.get("out", batch * width);
    std::vector<double> grad(batch * width, NAN);
    const double loss =
        MeanSquaredError::forward(out.data(), f.get("target", batch * width).data(), batch, width,
                                  grad.data());
    require_close("mse loss", &loss, f.get("loss", 1), double_tolerance);
    require_close("mse gradient", grad, f.get("grad", batch * width), double_tolerance);
  }
  {
    const Fixture f("mse_one_hot");
    const std::size_t batch = f.size_of("batch"), width = f.size_of("width");
    const auto& out = f.get("out", batch * width);
    const auto labels = f.labels("labels", batch);
    std::vector<double> grad(batch * width, NAN);
    const double loss = MeanSquaredError::forward(out.data(), labels.data(), batch, width, grad.data());
    require_close("mse one-hot loss", &loss, f.get("loss", 1), double_tolerance);
    require_close("mse one-hot gradient", grad, f.get("grad", batch * width), double_tolerance);
  }
}

namespace {
using SmallNet = Net<Input<2, 8, 6>, Conv<4, 3, 1, 1>, BatchNorm, Relu, MaxPool<2>, Flatten, Dense<5>>;
}

TEST_CASE("PyTorch reference: whole small net, eval forward", "[pytorch]") {
  const Fixture f("net_conv_bn_relu_pool_dense");
  auto run = [&]<class Model>(Model& net) {
    using T = typename Model::scalar_type;
    INFO("scalar " << (sizeof(T) == 8 ? "double" : "float"));
    const std::size_t batch = f.size_of("batch");
    const auto& params = f.get("params", Model::parameter_count);
    const auto& buffers = f.get("buffers0", Model::buffer_count);
    std::copy(params.begin(), params.end(), net.parameters().begin());
    std::copy(buffers.begin(), buffers.end(), net.buffers().begin());
    const auto x = as<T>(f.get("x", batch * Model::input_shape::size));
    require_close("net eval forward", net.predict(x.data(), batch),
                  f.get("y_eval", batch * Model::output_shape::size), tolerance_for<Model>());
  };
  SmallNet::rebind<double> net64{1};
  run(net64);
  SmallNet net32{1};
  run(net32);
}

TEST_CASE("PyTorch reference: whole small net, CrossEntropy backward vs autograd", "[pytorch]") {
  using Model = SmallNet::rebind<double>;
  const Fixture f("net_conv_bn_relu_pool_dense");
  const std::size_t batch = f.size_of("batch"), classes = f.size_of("classes");
  REQUIRE(classes == Model::output_shape::size);
  const auto& params = f.get("params", Model::parameter_count);
  const auto& buffers = f.get("buffers0", Model::buffer_count);
  const auto& x = f.get("x", batch * Model::input_shape::size);
  const auto labels = f.labels("labels", batch);

  Model net{1};
  std::copy(params.begin(), params.end(), net.parameters().begin());
  std::copy(buffers.begin(), buffers.end(), net.buffers().begin());

  const double* logits = net.forward_train(x.data(), batch);
  require_close("net training logits", logits, f.get("logits_train", batch * classes), double_tolerance);
  std::vector<double> dlogits(batch * classes);
  const double loss = SoftmaxCrossEntropy::forward(logits, labels.data(), batch, classes, dlogits.data());
  require_close("net loss", &loss, f.get("loss", 1), double_tolerance);

  std::vector<double> dx(x.size(), NAN);
  net.backward(dlogits.data(), dx.data());
  const auto& want = f.get("grad_params", Model::parameter_count);
  for (const auto& s : Model::parameter_segments()) {
    const std::vector<double> part(want.begin() + s.offset, want.begin() + s.offset + s.size);
    require_close("d loss / d " + s.layer_name + " " + s.name, net.gradients().data() + s.offset,
                  part, double_tolerance);
  }
  require_close("d loss / d parameters (all)", net.gradients().data(), want, double_tolerance);
  require_close("d loss / d input", dx, f.get("grad_x", x.size()), double_tolerance);
  require_close("running mean/var after the training pass", net.buffers().data(),
                f.get("buffers_after", Model::buffer_count), double_tolerance);
}
