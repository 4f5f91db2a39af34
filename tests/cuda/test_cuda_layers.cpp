// GPU checks of the CUDA backend against the CPU backend (docs/cuda.md).
//
//   test_cuda_layers [--layers] [--training] [--require-data]
//
// --layers (default with no flag): every layer's forward (training and inference) and backward,
//   the losses, the optimizers and the regularizers on the device, compared with the CPU Net in
//   double precision. Tolerance: max-norm relative error <= 1e-4 per array (per parameter segment
//   for gradients), i.e. max|gpu - ref| <= 1e-4 * max|ref|; a gradient segment whose exact value
//   is 0 (a bias before BatchNorm) is measured against 1e-3 of the largest gradient of the net
//   instead. Optimizer and regularizer updates against the CPU float policies: <= 1e-5.
//   ctnn::cuda::Trainer against ctnn::Trainer on synthetic data (no Dropout; momentum, a step
//   schedule, L2, BatchNorm, shuffling, a partial last batch): every epoch's metrics and the final
//   weights within 1e-3; and a diverging run keeps finite weights.
// --training: short Fashion-MNIST runs. (a) a dropout-free CNN, 40 steps in data order from the
//   same initial weights: every step's loss within 1% of the CPU run's with Sgd<0.9>, within 3%
//   with Adam<> (Adam's first steps move every weight by +-lr whatever the gradient's size, so
//   rounding-level sign differences of tiny gradients show). (b) examples' FashionMnistModel
//   (with Dropout, whose masks differ between the backends) through ctnn::Trainer and
//   ctnn::cuda::Trainer, 2 epochs on 512 images: per-epoch training loss within 0.15, validation
//   accuracy within 8 points of the CPU's, and above 40% (chance: 10%).
//   Fashion-MNIST is read from $CTNN_FASHION_MNIST or /usr/share/datasets/fashion-mnist; when it
//   is missing, (a) and (b) are skipped with a message, or fail with --require-data (or the
//   environment variable CTNN_CUDA_REQUIRE_DATA=1, which bench/cuda/device_check.sh sets).
//
// Host-only checks (no device needed) run first. Without a CUDA device the program then prints
// "SKIPPED: no CUDA device" and exits 77, which CTest reports as skipped (SKIP_RETURN_CODE).
// Ends with the line "N passed, N failed".
#include <ctnn/ctnn.hpp>
#include <ctnn/cuda/cuda.hpp>
#include <ctnn/data/fashion_mnist.hpp>
#include <ctnn/train/trainer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <optional>
#include <vector>
#include <xtensor/xbuilder.hpp>

#include "../../examples/models.hpp"

using namespace ctnn;
namespace kc = ctnn::kernels::cuda;
using kc::DeviceBuffer;

namespace {

constexpr double layer_tolerance = 1e-4;
constexpr double update_tolerance = 1e-5;

struct Checker {
  int passed = 0, failed = 0;
  void check(bool ok, const std::string& what, const std::string& detail = "") {
    (ok ? passed : failed)++;
    std::printf("%s %s%s%s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.empty() ? "" : "  ", detail.c_str());
    std::fflush(stdout);
  }
  // max|got - ref| <= tolerance * max(max|ref|, floor) (and got finite). The floor is for arrays
  // whose exact value is 0 (a bias before BatchNorm): they are compared at the scale of the
  // other values of the same kind.
  template <class G, class R>
  void close(const std::string& what, const G& got, const R& ref, double tolerance, double floor = 0) {
    if (got.size() != ref.size()) {
      check(false, what, "size " + std::to_string(got.size()) + " vs " + std::to_string(ref.size()));
      return;
    }
    double diff = 0, scale = 0;
    bool finite = true;
    for (std::size_t i = 0; i < got.size(); ++i) {
      finite = finite && std::isfinite(double(got[i]));
      diff = std::max(diff, std::abs(double(got[i]) - double(ref[i])));
      scale = std::max(scale, std::abs(double(ref[i])));
    }
    const double denominator = std::max(scale, floor);
    const double rel = denominator > 0 ? diff / denominator : diff;
    char text[200];
    std::snprintf(text, sizeof text, "rel.err %.2e (tol %.0e, max|ref| %.3g%s, n %zu)", rel,
                  tolerance, scale, floor > scale ? ", scaled by all gradients" : "", got.size());
    check(finite && rel <= tolerance, what, text);
  }
};

template <class T>
std::vector<T> random_values(std::size_t n, Rng& rng, double lo = -1.0, double hi = 1.0) {
  std::vector<T> v(n);
  for (auto& x : v) x = T(rng.uniform(lo, hi));
  return v;
}

template <class T>
std::vector<float> download(const T* device, std::size_t n) {
  std::vector<float> out(n);
  kc::copy_to_host(out.data(), device, n * sizeof(float));
  return out;
}

// Moves every parameter a little (BatchNorm's gamma = 1, beta = 0 would hide bugs) and the
// running statistics away from (0, 1).
template <class Model>
void perturb(Model& net, Rng& rng) {
  for (auto& p : net.parameters()) p += float(rng.uniform(-0.2, 0.2));
  auto b = net.buffers();
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = b[i] == 0.0f ? float(rng.uniform(-0.3, 0.3)) : float(rng.uniform(0.5, 1.5));
}

// One layer (or a small stack): forward in inference and in training mode, backward with an
// input gradient, on the device and on the CPU in double; compares outputs, input gradient,
// parameter gradients (per segment) and the buffers after the training pass.
template <class Model>
void check_net(Checker& c, const std::string& name, std::size_t batch, std::size_t workspace_limit = 0) {
  using Ref = typename Model::template rebind<double>;
  constexpr std::size_t in = Model::input_shape::size, out = Model::output_shape::size;
  Rng rng(1234);
  Model net{7};
  perturb(net, rng);
  Ref ref{0};
  std::copy(net.parameters().begin(), net.parameters().end(), ref.parameters().begin());
  std::copy(net.buffers().begin(), net.buffers().end(), ref.buffers().begin());
  const auto x = random_values<float>(batch * in, rng);
  const auto dy = random_values<float>(batch * out, rng);
  const std::vector<double> xd(x.begin(), x.end()), dyd(dy.begin(), dy.end());

  const double* yi = ref.predict(xd.data(), batch);
  const std::vector<double> ref_inference(yi, yi + batch * out);
  const double* yt = ref.forward_train(xd.data(), batch);
  const std::vector<double> ref_train(yt, yt + batch * out);
  std::vector<double> ref_dx(batch * in);
  ref.backward(dyd.data(), ref_dx.data());

  cuda::DeviceNet<Model> dev(net);
  if (workspace_limit) dev.set_workspace_limit(workspace_limit);
  const auto gpu_inference = dev.predict_host(x.data(), batch);
  DeviceBuffer<float> xdev(batch * in), dydev(batch * out), dxdev(batch * in);
  xdev.upload(x.data(), x.size());
  dydev.upload(dy.data(), dy.size());
  const auto gpu_train = download(dev.forward_train(xdev.data(), batch), batch * out);
  dev.backward(dydev.data(), dxdev.data());
  const auto gpu_dx = download(dxdev.data(), batch * in);
  std::vector<float> gpu_grads(Model::parameter_count);
  dev.download_gradients(gpu_grads);
  Model back{0};
  dev.download(back);

  c.close(name + ": forward (inference)", gpu_inference, ref_inference, layer_tolerance);
  c.close(name + ": forward (training)", gpu_train, ref_train, layer_tolerance);
  c.close(name + ": backward dx", gpu_dx, ref_dx, layer_tolerance);
  double all_gradients = 0;  // the scale of a segment whose exact gradient is 0
  for (const double g : ref.gradients()) all_gradients = std::max(all_gradients, std::abs(g));
  for (const auto& s : Model::parameter_segments()) {
    const std::vector<float> g(gpu_grads.begin() + s.offset, gpu_grads.begin() + s.offset + s.size);
    const std::vector<double> r(ref.gradients().begin() + s.offset, ref.gradients().begin() + s.offset + s.size);
    c.close(name + ": backward d" + s.name, g, r, layer_tolerance, 1e-3 * all_gradients);
  }
  if constexpr (Model::buffer_count > 0) {
    const std::vector<float> b(back.buffers().begin(), back.buffers().end());
    const std::vector<double> r(ref.buffers().begin(), ref.buffers().end());
    c.close(name + ": running statistics", b, r, layer_tolerance);
  }
}

void check_layers(Checker& c) {
  // Conv: padding, stride, 1x1, kernels that do not tile the input, several samples per chunk
  // and one sample per chunk (workspace limit 1 byte).
  check_net<Net<Input<3, 9, 8>, Conv<4, 3>>>(c, "Conv<4, 3>", 5);
  check_net<Net<Input<3, 9, 8>, Conv<4, 3, 2, 1>>>(c, "Conv<4, 3, 2, 1>", 5);
  check_net<Net<Input<3, 6, 7>, Conv<5, 1>>>(c, "Conv<5, 1>", 4);
  check_net<Net<Input<2, 10, 9>, Conv<3, 4, 3, 2>>>(c, "Conv<3, 4, 3, 2>", 3);
  check_net<Net<Input<2, 8, 8>, Conv<3, 5, 1, 2>>>(c, "Conv<3, 5, 1, 2>", 3);
  check_net<Net<Input<3, 9, 8>, Conv<4, 3, 1, 1>>>(c, "Conv<4, 3, 1, 1> chunked", 6, 1);
  // Dense
  check_net<Net<Input<7>, Dense<5>>>(c, "Dense<5>", 6);
  check_net<Net<Input<2, 3, 3>, Flatten, Dense<4>>>(c, "Flatten, Dense<4>", 3);
  // Pooling
  check_net<Net<Input<3, 6, 6>, MaxPool<2>>>(c, "MaxPool<2>", 4);
  check_net<Net<Input<2, 7, 7>, MaxPool<2>>>(c, "MaxPool<2> odd", 3);
  check_net<Net<Input<2, 7, 9>, MaxPool<3, 2>>>(c, "MaxPool<3, 2>", 3);
  check_net<Net<Input<3, 6, 6>, AvgPool<2>>>(c, "AvgPool<2>", 4);
  check_net<Net<Input<2, 7, 9>, AvgPool<3, 2>>>(c, "AvgPool<3, 2>", 3);
  check_net<Net<Input<2, 5, 6>, AvgPool<2, 1>>>(c, "AvgPool<2, 1>", 3);
  check_net<Net<Input<4, 5, 6>, GlobalAvgPool>>(c, "GlobalAvgPool", 3);
  // Elementwise
  check_net<Net<Input<3, 4, 5>, Flatten>>(c, "Flatten", 3);
  check_net<Net<Input<3, 4, 5>, Relu>>(c, "Relu", 3);
  check_net<Net<Input<3, 4, 5>, LeakyRelu<0.2>>>(c, "LeakyRelu<0.2>", 3);
  check_net<Net<Input<3, 4, 5>, Sigmoid>>(c, "Sigmoid", 3);
  check_net<Net<Input<3, 4, 5>, Tanh>>(c, "Tanh", 3);
  // BatchNorm, image and flat
  check_net<Net<Input<3, 5, 4>, BatchNorm>>(c, "BatchNorm (C,H,W)", 7);
  check_net<Net<Input<6>, BatchNorm>>(c, "BatchNorm (N)", 7);
  // Residual
  check_net<Net<Input<3, 6, 6>, Residual<Conv<3, 3, 1, 1>, Relu>>>(c, "Residual<Conv, Relu>", 3);
  check_net<Net<Input<6>, Residual<Dense<6>, Tanh>>>(c, "Residual<Dense, Tanh>", 4);
  // A whole stack with every kind of layer but Dropout.
  using Stack = Net<Input<2, 12, 12>, Conv<4, 3, 1, 1>, BatchNorm, LeakyRelu<0.1>, MaxPool<2>,
                    Residual<Conv<4, 3, 1, 1>, BatchNorm, Relu>, AvgPool<2>, Conv<6, 1>, Tanh,
                    GlobalAvgPool, Dense<8>, Sigmoid, Dense<3>>;
  check_net<Stack>(c, "stack of every layer", 5);
}

// Dropout in training mode: each output is 0 or x / (1 - P), about P of them 0, the backward mask
// equals the forward one, and a second pass draws a new mask. Inference is the identity.
void check_dropout(Checker& c) {
  using Model = Net<Input<1000>, Dropout<0.3>>;
  constexpr std::size_t batch = 8, n = batch * 1000;
  Rng rng(5);
  const auto x = random_values<float>(n, rng, 0.5, 1.5), dy = random_values<float>(n, rng, 0.5, 1.5);
  cuda::DeviceNet<Model> dev(Model{3});
  DeviceBuffer<float> xd(n), dyd(n), dxd(n);
  xd.upload(x.data(), n);
  dyd.upload(dy.data(), n);
  c.close("Dropout<0.3>: inference is the identity", download(dev.predict(xd.data(), batch), n), x, 0.0);
  const auto y = download(dev.forward_train(xd.data(), batch), n);
  dev.backward(dyd.data(), dxd.data());
  const auto dx = download(dxd.data(), n);
  std::size_t dropped = 0;
  bool values_ok = true, mask_ok = true;
  for (std::size_t i = 0; i < n; ++i) {
    const bool drop = y[i] == 0.0f;
    dropped += drop;
    values_ok = values_ok && (drop || std::abs(y[i] - x[i] / 0.7f) <= 1e-6f * std::abs(x[i]));
    mask_ok = mask_ok && (drop ? dx[i] == 0.0f : std::abs(dx[i] - dy[i] / 0.7f) <= 1e-6f * std::abs(dy[i]));
  }
  const double fraction = double(dropped) / double(n);
  c.check(values_ok, "Dropout<0.3>: kept units scaled by 1/(1-P)");
  c.check(mask_ok, "Dropout<0.3>: backward uses the forward's mask");
  c.check(std::abs(fraction - 0.3) < 0.025, "Dropout<0.3>: dropped fraction",
          std::to_string(fraction) + " (expected 0.3 +- 0.025)");
  const auto y2 = download(dev.forward_train(xd.data(), batch), n);
  c.check(y2 != y, "Dropout<0.3>: a new mask every training pass");
}

void check_losses(Checker& c) {
  constexpr std::size_t batch = 9, classes = 7;
  Rng rng(11);
  const auto logits = random_values<float>(batch * classes, rng, -4, 4);
  std::vector<std::int32_t> labels(batch);
  for (auto& l : labels) l = std::int32_t(rng.below(classes));
  const auto target = random_values<float>(batch * classes, rng);
  const std::vector<double> logits_d(logits.begin(), logits.end()), target_d(target.begin(), target.end());
  DeviceBuffer<float> z(batch * classes), t(batch * classes), g(batch * classes);
  DeviceBuffer<std::int32_t> l(batch);
  DeviceBuffer<double> metrics(2);
  z.upload(logits.data(), logits.size());
  t.upload(target.data(), target.size());
  l.upload(labels.data(), batch);
  const std::size_t correct = count_correct(logits.data(), labels.data(), batch, classes);

  auto run = [&](const std::string& name, auto&& device, double ref_loss, const std::vector<double>& ref_grad,
                 bool counts) {
    metrics.zero();
    device();
    double sums[2];
    metrics.download(sums, 2);
    c.close(name + ": loss", std::vector<double>{sums[0] / batch}, std::vector<double>{ref_loss}, layer_tolerance);
    c.close(name + ": gradient", download(g.data(), batch * classes), ref_grad, layer_tolerance);
    if (counts) c.check(std::size_t(sums[1]) == correct, name + ": correct count",
                        std::to_string(sums[1]) + " vs " + std::to_string(correct));
  };
  std::vector<double> ref_grad(batch * classes);
  double ref = SoftmaxCrossEntropy::forward(logits_d.data(), labels.data(), batch, classes, ref_grad.data());
  run("SoftmaxCrossEntropy", [&] { kc::softmax_cross_entropy(z.data(), l.data(), batch, classes, g.data(), metrics.data()); },
      ref, ref_grad, true);
  ref = MeanSquaredError::forward(logits_d.data(), labels.data(), batch, classes, ref_grad.data());
  run("MeanSquaredError (labels)", [&] { kc::mean_squared_error(z.data(), l.data(), batch, classes, g.data(), metrics.data()); },
      ref, ref_grad, true);
  ref = MeanSquaredError::forward(logits_d.data(), target_d.data(), batch, classes, ref_grad.data());
  run("MeanSquaredError (targets)", [&] { kc::mean_squared_error_target(z.data(), t.data(), batch, classes, g.data(), metrics.data()); },
      ref, ref_grad, false);
}

// k steps of a CPU optimizer and of its device twin from the same parameters and gradients.
template <class Policy>
void check_optimizer(Checker& c, const std::string& name, typename Policy::Options options = {}) {
  using Segments = Net<Input<7>, Dense<5>>;  // weight (decays) then bias (does not)
  constexpr std::size_t n = Segments::parameter_count;
  const auto segments = std::span<const ParameterSegment>(Segments::parameter_segments());
  Rng rng(21);
  auto params = random_values<float>(n, rng);
  typename Policy::template rebind<float> cpu(options);
  cpu.resize(n);
  cuda::device_optimizer<Policy> gpu(options);
  gpu.resize(n);
  DeviceBuffer<float> w(n), g(n);
  w.upload(params.data(), n);
  for (int step = 0; step < 5; ++step) {
    const auto grads = random_values<float>(n, rng);
    const double lr = 0.01 * (step + 1);
    cpu.step(std::span<float>(params), std::span<const float>(grads), lr, segments);
    g.upload(grads.data(), n);
    gpu.step(w.data(), g.data(), n, lr, segments);
  }
  c.close(name + ": parameters after 5 steps", download(w.data(), n), params, update_tolerance);
  const auto state = gpu.download_state();
  const auto cpu_state = cpu.state_buffers();
  c.check(state.size() == cpu_state.size(), name + ": state buffers", std::to_string(state.size()));
  for (std::size_t i = 0; i < std::min(state.size(), cpu_state.size()); ++i)
    c.close(name + ": state " + std::string(cpu.state_names()[i]), state[i],
            std::vector<float>(cpu_state[i].begin(), cpu_state[i].end()), update_tolerance);
  c.check(gpu.step_count() == cpu.step_count(), name + ": step count");
}

template <class Policy>
void check_regularizer(Checker& c, const std::string& name) {
  using Segments = Net<Input<7>, Dense<5>>;
  constexpr std::size_t n = Segments::parameter_count;
  const auto segments = std::span<const ParameterSegment>(Segments::parameter_segments());
  Rng rng(31);
  auto params = random_values<float>(n, rng);
  auto grads = random_values<float>(n, rng);
  DeviceBuffer<float> w(n), g(n);
  w.upload(params.data(), n);
  g.upload(grads.data(), n);
  Policy cpu;
  cuda::device_regularizer<Policy> gpu;
  const double lr = 0.1;
  const double gpu_penalty = gpu.penalty(w.data(), n, segments);
  const double cpu_penalty = cpu.penalty(std::span<const float>(params), segments);
  cpu.before_step(std::span<float>(params), std::span<float>(grads), lr, segments);
  gpu.before_step(w.data(), g.data(), n, lr, segments);
  c.close(name + ": parameters", download(w.data(), n), params, update_tolerance);
  c.close(name + ": gradients", download(g.data(), n), grads, update_tolerance);
  c.close(name + ": penalty", std::vector<double>{gpu_penalty}, std::vector<double>{cpu_penalty}, update_tolerance);
}

void check_policies(Checker& c) {
  check_optimizer<Sgd<>>(c, "Sgd<>");
  check_optimizer<Sgd<0.9>>(c, "Sgd<0.9>");
  check_optimizer<Sgd<0.9, true>>(c, "Sgd<0.9, true>");
  check_optimizer<Adam<>>(c, "Adam<>");
  check_optimizer<AdamW<0.9, 0.999, 1e-8, 0.1>>(c, "AdamW<..., 0.1>");
  check_optimizer<RmsProp<>>(c, "RmsProp<>");
  check_optimizer<RmsProp<0.9, 1e-8, 0.5>>(c, "RmsProp<0.9, 1e-8, 0.5>");
  check_regularizer<L2<1e-2>>(c, "L2<0.01>");
  check_regularizer<L1<1e-2>>(c, "L1<0.01>");
  check_regularizer<WeightDecay<1e-1>>(c, "WeightDecay<0.1>");
  check_regularizer<Both<L2<1e-2>, WeightDecay<1e-1>>>(c, "Both<L2, WeightDecay>");
}

// (a) 40 steps of a dropout-free CNN in data order: every step's loss on the GPU follows the
// CPU's within `tolerance` (relative).
template <class Policy>
void check_training_steps(Checker& c, const data::Dataset& train, const std::string& name, double lr,
                          double tolerance) {
  using Model = Net<Input<1, 28, 28>, Conv<8, 3>, Relu, MaxPool<2>, Conv<16, 3>, Relu, MaxPool<2>,
                    Flatten, Dense<32>, Relu, Dense<10>>;
  constexpr std::size_t batch = 32, steps = 40, in = 784, classes = 10, n = Model::parameter_count;
  Model cpu{3};
  cuda::DeviceNet<Model> gpu(cpu);
  typename Policy::template rebind<float> cpu_opt;
  cpu_opt.resize(n);
  cuda::device_optimizer<Policy> gpu_opt;
  gpu_opt.resize(n);
  DeviceBuffer<float> x(batch * in), grad(batch * classes);
  DeviceBuffer<std::int32_t> labels(batch);
  DeviceBuffer<double> metrics(2);
  std::vector<float> cpu_grad(batch * classes);
  std::vector<double> cpu_losses, gpu_losses;
  for (std::size_t step = 0; step < steps; ++step) {
    const std::size_t start = (step * batch) % (train.size() - batch);
    const float* images = train.images().data() + start * in;
    const std::int32_t* l = train.labels().data() + start;
    const float* y = cpu.forward_train(images, batch);
    cpu_losses.push_back(SoftmaxCrossEntropy::forward(y, l, batch, classes, cpu_grad.data()));
    cpu.backward(cpu_grad.data());
    cpu_opt.step(cpu.parameters(), std::span<const float>(cpu.gradients()), lr);

    x.upload(images, batch * in);
    labels.upload(l, batch);
    metrics.zero();
    const float* yd = gpu.forward_train(x.data(), batch);
    cuda::device_loss<SoftmaxCrossEntropy>::run(yd, labels.data(), batch, classes, grad.data(), metrics.data());
    gpu.backward(grad.data());
    gpu_opt.step(gpu.parameters().data, gpu.gradients().data, n, lr);
    double sums[2];
    metrics.download(sums, 2);
    gpu_losses.push_back(sums[0] / batch);
  }
  double worst = 0;
  std::size_t worst_step = 0;
  for (std::size_t i = 0; i < steps; ++i) {
    const double rel = std::abs(gpu_losses[i] - cpu_losses[i]) / std::abs(cpu_losses[i]);
    if (rel > worst) worst = rel, worst_step = i;
  }
  char text[240];
  std::snprintf(text, sizeof text,
                "worst step %zu: gpu %.5f cpu %.5f (rel %.2e, tol %.0e); cpu loss %.4f -> %.4f, gpu %.4f -> %.4f",
                worst_step, gpu_losses[worst_step], cpu_losses[worst_step], worst, tolerance,
                cpu_losses.front(), cpu_losses.back(), gpu_losses.front(), gpu_losses.back());
  c.check(worst <= tolerance, "training (a): 40 " + name + " steps follow the CPU loss curve", text);
  c.check(cpu_losses.back() < cpu_losses.front(), "training (a): " + name + ": the loss went down");
}

// (b) The same FashionMnistModel through ctnn::Trainer and ctnn::cuda::Trainer.
void check_trainers(Checker& c, const data::Dataset& train, const data::Dataset& val) {
  using Model = examples::FashionMnistModel;
  TrainConfig config;
  config.learning_rate = 1e-3;
  config.batch_size = 32;
  config.max_epochs = 2;
  config.seed = 1;
  config.verbose = 0;
  Model cpu_net{42}, gpu_net{42};
  const History cpu = Trainer<Model, SoftmaxCrossEntropy, Adam<>>{config}.fit(cpu_net, train, val);
  const History gpu = cuda::Trainer<Model, SoftmaxCrossEntropy, Adam<>>{config}.fit(gpu_net, train, val);
  c.check(cpu.epochs().size() == 2 && gpu.epochs().size() == 2, "training (b): both ran 2 epochs");
  for (std::size_t e = 0; e < std::min(cpu.epochs().size(), gpu.epochs().size()); ++e) {
    const auto& a = cpu.epochs()[e];
    const auto& b = gpu.epochs()[e];
    char text[200];
    std::snprintf(text, sizeof text, "train loss cpu %.4f gpu %.4f; val acc cpu %.3f gpu %.3f; %.1f s vs %.2f s",
                  a.train_loss, b.train_loss, a.val_accuracy, b.val_accuracy, a.seconds, b.seconds);
    c.check(std::abs(a.train_loss - b.train_loss) <= 0.15 &&
                std::abs(a.val_accuracy - b.val_accuracy) <= 0.08,
            "training (b): epoch " + std::to_string(e + 1) + " matches the CPU", text);
  }
  if (!gpu.epochs().empty())
    c.check(gpu.epochs().back().val_accuracy > 0.4 && cpu.epochs().back().val_accuracy > 0.4,
            "training (b): both learned (validation accuracy > 40%, chance is 10%)");
  // The trained weights came back to the host net: its CPU evaluation is the GPU's.
  cuda::DeviceNet<Model> dev(gpu_net);
  const Evaluation on_gpu = cuda::evaluate<SoftmaxCrossEntropy>(dev, val);
  const Evaluation on_cpu = evaluate<SoftmaxCrossEntropy>(gpu_net, val);
  c.close("training (b): cuda::evaluate equals evaluate on the downloaded net",
          std::vector<double>{on_gpu.loss, on_gpu.accuracy}, std::vector<double>{on_cpu.loss, on_cpu.accuracy}, 1e-4);
}

// A small learnable dataset: 6x6 images whose label is the quadrant with the largest sum.
data::Dataset synthetic(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  xt::xtensor<float, 4> images = xt::zeros<float>({n, std::size_t{1}, std::size_t{6}, std::size_t{6}});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    double sums[4] = {0, 0, 0, 0};
    for (std::size_t y = 0; y < 6; ++y)
      for (std::size_t x = 0; x < 6; ++x) {
        const float v = float(rng.uniform());
        images(i, 0, y, x) = v;
        sums[(y / 3) * 2 + x / 3] += v;
      }
    labels[i] = std::int32_t(std::max_element(sums, sums + 4) - sums);
  }
  return data::Dataset(std::move(images), std::move(labels), 4);
}

// ctnn::Trainer and ctnn::cuda::Trainer on the same dropout-free net, data and policies
// (momentum, a step schedule, L2 with its penalty, shuffling, a partial last batch, validation,
// best-epoch bookkeeping): the histories agree epoch by epoch and the final weights agree.
void check_trainer_parity(Checker& c) {
  using Model = Net<Input<1, 6, 6>, Conv<4, 3>, BatchNorm, Relu, Flatten, Dense<4>>;
  using Cpu = Trainer<Model, SoftmaxCrossEntropy, Sgd<0.9>, StepDecay<2, 0.5>, L2<1e-3>>;
  using Gpu = cuda::Trainer<Model, SoftmaxCrossEntropy, Sgd<0.9>, StepDecay<2, 0.5>, L2<1e-3>>;
  const data::Dataset train = synthetic(250, 1), val = synthetic(100, 2);
  TrainConfig config;
  config.learning_rate = 0.05;
  config.batch_size = 32;
  config.max_epochs = 4;
  config.verbose = 0;
  Model cpu_net{5}, gpu_net{5};
  const History a = Cpu{config}.fit(cpu_net, train, val);
  const History b = Gpu{config}.fit(gpu_net, train, val);
  c.check(a.epochs().size() == b.epochs().size() && a.stop_reason() == b.stop_reason(),
          "trainer parity: same epochs and stop reason", b.stop_reason());
  std::vector<double> ga, gb;
  for (std::size_t e = 0; e < std::min(a.epochs().size(), b.epochs().size()); ++e) {
    const auto& x = a.epochs()[e];
    const auto& y = b.epochs()[e];
    ga.insert(ga.end(), {x.train_loss, x.train_accuracy, x.val_loss, x.val_accuracy, x.learning_rate});
    gb.insert(gb.end(), {y.train_loss, y.train_accuracy, y.val_loss, y.val_accuracy, y.learning_rate});
  }
  c.close("trainer parity: losses, accuracies and learning rates of every epoch", gb, ga, 1e-3);
  c.close("trainer parity: final parameters", std::vector<float>(gpu_net.parameters().begin(), gpu_net.parameters().end()),
          std::vector<float>(cpu_net.parameters().begin(), cpu_net.parameters().end()), 1e-3);
  c.close("trainer parity: final BatchNorm statistics", std::vector<float>(gpu_net.buffers().begin(), gpu_net.buffers().end()),
          std::vector<float>(cpu_net.buffers().begin(), cpu_net.buffers().end()), 1e-3);
}

// A learning rate that blows up (mean squared error: the gradient grows with the output): the
// run stops as diverged and no NaN weight comes back.
void check_trainer_divergence(Checker& c) {
  using Model = Net<Input<1, 6, 6>, Flatten, Dense<4>>;
  const data::Dataset train = synthetic(64, 3), val = synthetic(32, 4);
  TrainConfig config;
  config.learning_rate = 50;
  config.batch_size = 16;
  config.max_epochs = 3;
  config.verbose = 0;
  Model net{6};
  const History h = cuda::Trainer<Model, MeanSquaredError, Sgd<>>{config}.fit(net, train, val);
  bool finite = true;
  for (const float p : net.parameters()) finite = finite && std::isfinite(p);
  c.check(h.diverged() && finite, "trainer: divergence stops the run and keeps finite weights", h.stop_reason());
}

// Checks that need no device: the trainer's refusals come before any device work.
void check_host_side(Checker& c) {
  using Model = Net<Input<4>, Dense<2>>;
  Model net{1};
  xt::xtensor<float, 4> images = xt::zeros<float>({std::size_t{4}, std::size_t{1}, std::size_t{2}, std::size_t{2}});
  data::Dataset d(images, {0, 1, 0, 1});
  auto refuses = [&](TrainConfig cfg, const std::string& needle) {
    try {
      cuda::Trainer<Model, SoftmaxCrossEntropy>{cfg}.fit(net, d, d);
    } catch (const ConfigError& e) {
      return std::string(e.what()).find(needle) != std::string::npos;
    } catch (...) {
    }
    return false;
  };
  TrainConfig checkpoints;
  checkpoints.checkpoint_every = 1;
  checkpoints.checkpoint_path = "unused";
  c.check(refuses(checkpoints, "checkpoints"),
          "host: cuda::Trainer refuses checkpoints before any device work");
  TrainConfig no_batch;
  no_batch.batch_size = 0;
  c.check(refuses(no_batch, "batch_size"), "host: cuda::Trainer checks batch_size");
  c.check(kc::device_count() >= 0, "host: device_count() answers without throwing",
          std::to_string(kc::device_count()) + " device(s)");
}

}  // namespace

int main(int argc, char** argv) {
  bool layers = false, training = false, require_data = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--layers") == 0) layers = true;
    else if (std::strcmp(argv[i], "--training") == 0) training = true;
    else if (std::strcmp(argv[i], "--require-data") == 0) require_data = true;
    else {
      std::fprintf(stderr, "usage: %s [--layers] [--training] [--require-data]\n", argv[0]);
      return 2;
    }
  }
  if (!layers && !training) layers = true;
  if (const char* v = std::getenv("CTNN_CUDA_REQUIRE_DATA"); v != nullptr && std::strcmp(v, "1") == 0)
    require_data = true;

  Checker c;
  check_host_side(c);
  if (!cuda::available()) {
    std::printf("SKIPPED: no CUDA device (%s); %d host checks passed, %d failed\n",
                kc::device_count_error().c_str(), c.passed, c.failed);
    return c.failed ? 1 : 77;
  }
  std::printf("device: %s\n", cuda::device_description().c_str());
  try {
    if (layers) {
      check_layers(c);
      check_dropout(c);
      check_losses(c);
      check_policies(c);
      check_trainer_parity(c);
      check_trainer_divergence(c);
    }
    if (training) {
      const auto dir = data::default_fashion_mnist_dir();
      std::optional<data::TrainTest> fashion;
      try {
        fashion = data::fashion_mnist(dir, 512);
      } catch (const std::exception& e) {
        if (require_data) c.check(false, "training: Fashion-MNIST", e.what());
        else std::printf("SKIPPED training checks: Fashion-MNIST not found in %s\n", dir.c_str());
      }
      if (fashion) {
        check_training_steps<Sgd<0.9>>(c, fashion->train, "Sgd<0.9>", 0.05, 1e-2);
        check_training_steps<Adam<>>(c, fashion->train, "Adam<>", 1e-3, 3e-2);
        check_trainers(c, fashion->train, fashion->test);
      }
    }
  } catch (const std::exception& e) {
    c.check(false, "uncaught exception", e.what());
  }
  std::printf("%d passed, %d failed\n", c.passed, c.failed);
  return c.failed ? 1 : 0;
}
