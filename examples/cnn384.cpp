// The 10-layer CNN of the motivating question on 3x384x384 images: its summary, then one timed
// training step (forward, loss, backward) on a small random batch.
//   cnn384 [--batch N]
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "models.hpp"

int main(int argc, char** argv) {
  using Model = examples::Cnn384Model;
  std::size_t batch = 2;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--batch") == 0) batch = std::strtoul(argv[i + 1], nullptr, 10);
  if (batch == 0) {
    std::cerr << "cnn384: --batch must be at least 1\n";
    return 2;
  }

  std::cout << Model::summary();
  Model net{42};
  ctnn::Rng rng(1);
  std::vector<float> x(batch * Model::input_shape::size), grad(batch * Model::output_shape::size);
  std::vector<std::int32_t> labels(batch);
  for (auto& v : x) v = float(rng.uniform());
  for (auto& l : labels) l = std::int32_t(rng.below(2));

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const float* y = net.forward_train(x.data(), batch);
  const float loss = ctnn::SoftmaxCrossEntropy::forward(y, labels.data(), batch, 2, grad.data());
  const auto t1 = clock::now();
  net.backward(grad.data());
  const auto t2 = clock::now();

  const double fwd = std::chrono::duration<double>(t1 - t0).count();
  const double bwd = std::chrono::duration<double>(t2 - t1).count();
  std::cout << "batch " << batch << ": loss " << loss << ", forward " << fwd << " s, backward "
            << bwd << " s, " << double(batch) / (fwd + bwd) << " images/s\n";
  return 0;
}
