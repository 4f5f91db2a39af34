// Fashion-MNIST on an NVIDIA GPU: the same network type and the same Trainer arguments as on the
// CPU; only the trainer's namespace changes (ctnn::Trainer -> ctnn::cuda::Trainer).
//
//   fashion_mnist_gpu [--epochs N] [--batch N] [--lr X] [--limit N] [--skip-without-device]
//
// --limit keeps the first N images of each part (all by default); 10% of the training images
// are held out for validation. Fashion-MNIST is read from $CTNN_FASHION_MNIST or
// /usr/share/datasets/fashion-mnist. With --skip-without-device, a missing device or dataset
// prints "SKIPPED: ..." and exits 77 (CTest's skip code) instead of failing.
#include <ctnn/ctnn.hpp>
#include <ctnn/cuda/cuda.hpp>
#include <ctnn/data/fashion_mnist.hpp>
#include <ctnn/data/split.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "../models.hpp"

namespace {
struct Options {
  std::size_t epochs = 5, batch = 64, limit = ctnn::data::all_samples;
  double lr = 1e-3;
  bool skip_without_device = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fashion_mnist_gpu: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--epochs") o.epochs = std::strtoul(value(), nullptr, 10);
    else if (a == "--batch") o.batch = std::strtoul(value(), nullptr, 10);
    else if (a == "--lr") o.lr = std::strtod(value(), nullptr);
    else if (a == "--limit") o.limit = std::strtoul(value(), nullptr, 10);
    else if (a == "--skip-without-device") o.skip_without_device = true;
    else {
      std::fprintf(stderr,
                   "usage: fashion_mnist_gpu [--epochs N] [--batch N] [--lr X] [--limit N] "
                   "[--skip-without-device]\n");
      std::exit(2);
    }
  }
  return o;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ctnn;
  using Model = examples::FashionMnistModel;
  // The one line that picks the backend: ctnn::Trainer<...> trains the same net on the CPU.
  using Train = cuda::Trainer<Model, SoftmaxCrossEntropy, Adam<>>;

  const Options o = parse(argc, argv);
  if (!cuda::available()) {
    std::printf("SKIPPED: no CUDA device (%s)\n", kernels::cuda::device_count_error().c_str());
    return o.skip_without_device ? 77 : 1;
  }
  data::TrainTest fashion;
  try {
    fashion = data::fashion_mnist(data::default_fashion_mnist_dir(), o.limit);
  } catch (const std::exception& e) {
    std::printf("%s: %s\n", o.skip_without_device ? "SKIPPED: Fashion-MNIST not found" : "error", e.what());
    return o.skip_without_device ? 77 : 1;
  }
  try {
    std::cout << "device: " << cuda::device_description() << "\n" << Model::summary();
    const auto parts = data::split(fashion.train, 0.9, 7);
    Model net{42};
    TrainConfig config;
    config.learning_rate = o.lr;
    config.batch_size = o.batch;
    config.max_epochs = o.epochs;
    const History history = Train{config}.fit(net, parts.train, parts.validation);
    std::cout << history.stop_reason() << "\n";
    cuda::DeviceNet<Model> device(net);
    const Evaluation test = cuda::evaluate<SoftmaxCrossEntropy>(device, fashion.test);
    double seconds = 0;
    for (const auto& e : history.epochs()) seconds += e.seconds;
    std::printf("test loss %.4f, test accuracy %.2f%%, %.1f training images/s (epoch time with validation)\n", test.loss,
                100.0 * test.accuracy,
                double(parts.train.size()) * double(history.epochs().size()) / seconds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_mnist_gpu: %s\n", e.what());
    return 1;
  }
}
