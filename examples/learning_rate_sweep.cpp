// The motivating experiment: the same CNN trained with Adam at 1e-3, 1e-4 and 1e-5 from the same
// start, early stopping on validation loss, the report of each run, the best rate by validation
// loss, and one picture with every learning curve.
//   learning_rate_sweep [--epochs N] [--limit N] [--out DIR] [--data DIR]
#include <filesystem>
#include <iostream>
#include <string>

#include "models.hpp"

int main(int argc, char** argv) try {
  using namespace ctnn;
  using Model = examples::FashionMnistModel;
  std::size_t epochs = 5, limit = 12000;
  std::filesystem::path out = "ctnn-output", dir = data::default_fashion_mnist_dir();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--epochs") epochs = std::stoul(v);
    else if (a == "--limit") limit = std::stoul(v);
    else if (a == "--out") out = v;
    else if (a == "--data") dir = v;
    else throw ConfigError("learning_rate_sweep: unknown option " + a);
  }

  auto data = data::fashion_mnist(dir, limit);
  auto [train, validation] = data::split(data.train, 0.9, /*seed=*/1);
  using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<1, CosineDecay<>>,
                        WeightDecay<1e-4>, EarlyStopping<3>>;
  const SweepResult result = sweep_learning_rates<Train>(
      [] { return Model{42}; }, train, validation, {1e-3, 1e-4, 1e-5},
      {.batch_size = 64, .max_epochs = epochs});

  std::cout << "\n" << result.report();
  std::filesystem::create_directories(out);
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < result.histories.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "lr %.0e", result.learning_rates[i]);
    labels.push_back(name);
    result.histories[i].save_csv(out / ("sweep_" + std::to_string(i) + ".csv"));
  }
  std::cout << "histories: " << (out / "sweep_*.csv").string() << "\n";
  if (gnuplot_available()) {
    plot_histories(out / "sweep.png", result.histories, labels);
    std::cout << "curves:    " << (out / "sweep.png").string() << "\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "learning_rate_sweep: " << e.what() << "\n";
  return 1;
}
