// The smallest program an outside user writes: one include, one network, one forward pass.
// Prints "ctnn consumer: ok" when everything is as documented (docs/design.md).
#include <ctnn/ctnn.hpp>

#include <cstdlib>
#include <iostream>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>

using Model = ctnn::Net<ctnn::Input<4>, ctnn::Dense<3>>;
static_assert(Model::output_shape::size == 3, "Dense<3> yields 3 values per sample");

int main() {
  ctnn::Rng rng{7};
  const double u = rng.uniform();

  Model net{42};
  xt::xtensor<float, 2> x = xt::ones<float>({std::size_t{2}, std::size_t{4}});  // (batch, 4)
  const auto y = net.forward(x);                                                  // (batch, 3)

  std::cout << "signature: " << Model::signature() << "\n"
            << "output_shape size: " << Model::output_shape::size << "\n"
            << "forward: (" << y.shape()[0] << ", " << y.shape()[1] << ")\n"
            << "parameters: " << net.parameters().size() << "\n";
  const bool ok = y.shape()[0] == 2 && y.shape()[1] == 3 &&
                  net.parameters().size() == 4 * 3 + 3 && u >= 0.0 && u < 1.0;
  std::cout << (ok ? "ctnn consumer: ok" : "ctnn consumer: WRONG") << std::endl;
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
