// Fashion-MNIST with the canonical CNN: the model summary, a forward pass on real images, then
// training with Adam and a held-out validation split, the learning curves and the test accuracy.
//   fashion_mnist [--epochs N] [--full] [--batch N] [--lr X] [--limit N] [--out DIR] [--data DIR]
// --full trains 10 epochs (the default is a short 2-epoch run).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>

#include "models.hpp"

namespace {
struct Options {
  std::size_t epochs = 2, batch = 64, limit = ctnn::data::all_samples;
  double learning_rate = 1e-3;
  std::filesystem::path out = "ctnn-output";
  std::filesystem::path data = ctnn::data::default_fashion_mnist_dir();
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw ctnn::ConfigError("fashion_mnist: " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--epochs") o.epochs = std::stoul(value());
    else if (a == "--full") o.epochs = 10;
    else if (a == "--batch") o.batch = std::stoul(value());
    else if (a == "--lr") o.learning_rate = std::stod(value());
    else if (a == "--limit") o.limit = std::stoul(value());
    else if (a == "--out") o.out = value();
    else if (a == "--data") o.data = value();
    else throw ctnn::ConfigError("fashion_mnist: unknown option " + a +
                                 " (use --epochs N, --full, --batch N, --lr X, --limit N, --out DIR, --data DIR)");
  }
  return o;
}
}  // namespace

int main(int argc, char** argv) try {
  using namespace ctnn;
  using Model = examples::FashionMnistModel;
  const Options options = parse(argc, argv);

  std::cout << Model::summary();
  auto data = data::fashion_mnist(options.data, options.limit);
  std::cout << "Fashion-MNIST from " << options.data.string() << ": " << data.train.size()
            << " training and " << data.test.size() << " test images\n";

  Model net{42};
  // A forward pass on the first real test images, before training.
  xt::xtensor<float, 4> first = xt::view(data.test.images(), xt::range(0, 8));
  const auto logits = net.forward(first);
  std::cout << "untrained predictions for 8 test images:";
  for (std::size_t i = 0; i < 8; ++i) std::cout << ' ' << xt::argmax(xt::view(logits, i))();
  std::cout << " (labels:";
  for (std::size_t i = 0; i < 8; ++i) std::cout << ' ' << data.test.labels()[i];
  std::cout << ")\n\n";

  auto [train, validation] = data::split(data.train, 0.9, /*seed=*/1);
  using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Constant, NoRegularizer, EarlyStopping<3>>;
  const auto started = std::chrono::steady_clock::now();
  const History history = Train{{.learning_rate = options.learning_rate,
                                 .batch_size = options.batch,
                                 .max_epochs = options.epochs}}
                              .fit(net, train, validation);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const Evaluation test = evaluate<SoftmaxCrossEntropy>(net, data.test);
  std::cout << "\n" << history.report();
  std::cout << "test accuracy: " << test.accuracy << " (loss " << test.loss << ") after "
            << history.size() << " epochs, " << seconds << " s of training\n";

  std::filesystem::create_directories(options.out);
  history.save_csv(options.out / "history.csv");
  save(net, options.out / "fashion_mnist.ctnn");
  std::cout << "history:  " << (options.out / "history.csv").string() << "\n";
  std::cout << "weights:  " << (options.out / "fashion_mnist.ctnn").string() << "\n";
  if (gnuplot_available()) {
    history.plot(options.out / "curves.png");
    std::cout << "curves:   " << (options.out / "curves.png").string() << "\n";
  } else {
    std::cout << "curves:   not drawn (install gnuplot-nox)\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "fashion_mnist: " << e.what() << "\n";
  return 1;
}
