// Training throughput of the CUDA backend: images/s of full training steps (forward, softmax
// cross-entropy, backward, Adam) on a synthetic batch that already lives on the device, as
// bench/cuda/torch_bench.py measures PyTorch. bench/cuda/run runs both.
//
//   bench_cuda [--model fashion|cnn384|all] [--batch N] [--steps N] [--warmup N] [--tf32]
//
// One result line per model:
//   RESULT backend=ctnn-cuda model=fashion batch=64 steps=200 ms_per_step=0.512 images_per_s=125000
// --tf32 lets cuBLAS use TF32 tensor cores (as PyTorch does for convolutions by default).
#include <ctnn/ctnn.hpp>
#include <ctnn/cuda/cuda.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "../../examples/models.hpp"

namespace {

namespace kc = ctnn::kernels::cuda;

struct Options {
  std::string model = "all";
  std::size_t batch = 0, steps = 0, warmup = 0;  // 0: the model's default
  bool tf32 = false;
};

template <class Model>
void bench(const char* name, std::size_t batch, std::size_t steps, std::size_t warmup) {
  using namespace ctnn;
  constexpr std::size_t in = Model::input_shape::size, classes = Model::output_shape::size;
  constexpr std::size_t n = Model::parameter_count;
  cuda::DeviceNet<Model> net(std::uint64_t{42});
  cuda::device_optimizer<Adam<>> adam;
  adam.resize(n);
  Rng rng(1);
  std::vector<float> x(batch * in);
  for (auto& v : x) v = float(rng.uniform());
  std::vector<std::int32_t> labels(batch);
  for (auto& l : labels) l = std::int32_t(rng.below(classes));
  kc::DeviceBuffer<float> xd(x.size()), grad(batch * classes);
  kc::DeviceBuffer<std::int32_t> ld(batch);
  kc::DeviceBuffer<double> metrics(2);
  xd.upload(x.data(), x.size());
  ld.upload(labels.data(), batch);
  metrics.zero();
  auto step = [&] {
    const float* y = net.forward_train(xd.data(), batch);
    cuda::device_loss<SoftmaxCrossEntropy>::run(y, ld.data(), batch, classes, grad.data(), metrics.data());
    net.backward(grad.data());
    adam.step(net.parameters().data, net.gradients().data, n, 1e-4);
  };
  for (std::size_t i = 0; i < warmup; ++i) step();
  kc::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < steps; ++i) step();
  kc::synchronize();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double sums[2];
  metrics.download(sums, 2);
  const double mean_loss = sums[0] / double(batch * (steps + warmup));
  std::printf("RESULT backend=ctnn-cuda%s model=%s batch=%zu steps=%zu ms_per_step=%.3f images_per_s=%.1f mean_loss=%.4f\n",
              kc::tf32() ? "-tf32" : "", name, batch, steps, 1e3 * seconds / double(steps),
              double(batch * steps) / seconds, mean_loss);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) { std::fprintf(stderr, "bench_cuda: %s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--model") o.model = value();
    else if (a == "--batch") o.batch = std::strtoul(value(), nullptr, 10);
    else if (a == "--steps") o.steps = std::strtoul(value(), nullptr, 10);
    else if (a == "--warmup") o.warmup = std::strtoul(value(), nullptr, 10);
    else if (a == "--tf32") o.tf32 = true;
    else {
      std::fprintf(stderr, "usage: bench_cuda [--model fashion|cnn384|all] [--batch N] [--steps N] [--warmup N] [--tf32]\n");
      return 2;
    }
  }
  if (!ctnn::cuda::available()) {
    std::printf("SKIPPED: no CUDA device (%s)\n", kc::device_count_error().c_str());
    return 77;
  }
  try {
    std::printf("device: %s\n", ctnn::cuda::device_description().c_str());
    if (o.tf32) kc::set_tf32(true);
    auto pick = [](std::size_t v, std::size_t d) { return v ? v : d; };
    if (o.model == "fashion" || o.model == "all")
      bench<examples::FashionMnistModel>("fashion", pick(o.batch, 64), pick(o.steps, 200), pick(o.warmup, 20));
    if (o.model == "cnn384" || o.model == "all")
      bench<examples::Cnn384Model>("cnn384", pick(o.batch, 16), pick(o.steps, 10), pick(o.warmup, 3));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cuda: %s\n", e.what());
    return 1;
  }
}
