#pragma once
// The numerical gradient checker every layer goes through (dlib's test_layer, for ctnn): the
// loss L = sum(y * r) for a fixed random r, its analytic gradient from backward(), and central
// finite differences in double precision, for every parameter and every input element.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace ctnn::testing {

struct GradientCheck {
  double worst_parameter_error = 0;
  double worst_input_error = 0;
};

inline double relative_error(double analytic, double numeric) {
  return std::abs(analytic - numeric) / std::max(1.0, std::abs(analytic) + std::abs(numeric));
}

// Net must be a Network<double, ...>. Checks at most `max_checks` entries of each kind (evenly
// spread) to keep big layers fast.
template <class NetT>
GradientCheck check_gradients(NetT& net, std::size_t batch, std::uint64_t seed = 7,
                              std::size_t max_checks = 400) {
  using In = typename NetT::input_shape;
  using Out = typename NetT::output_shape;
  Rng data(seed);
  std::vector<double> x(batch * In::size), r(batch * Out::size), dx(x.size());
  for (auto& v : x) v = data.uniform(-1, 1);
  for (auto& v : r) v = data.uniform(-1, 1);

  const Rng::State start = net.rng().state();  // same dropout mask on every pass
  auto loss = [&] {
    net.rng().set_state(start);
    const double* y = net.forward_train(x.data(), batch);
    double sum = 0;
    for (std::size_t i = 0; i < r.size(); ++i) sum += y[i] * r[i];
    return sum;
  };
  loss();
  net.backward(r.data(), dx.data());
  const std::vector<double> analytic(net.gradients().begin(), net.gradients().end());

  const double eps = 1e-6;
  auto numeric = [&](double& value) {
    const double saved = value;
    value = saved + eps;
    const double up = loss();
    value = saved - eps;
    const double down = loss();
    value = saved;
    return (up - down) / (2 * eps);
  };

  GradientCheck result;
  auto params = net.parameters();
  const std::size_t pstep = std::max<std::size_t>(1, params.size() / max_checks);
  for (std::size_t i = 0; i < params.size(); i += pstep)
    result.worst_parameter_error =
        std::max(result.worst_parameter_error, relative_error(analytic[i], numeric(params[i])));
  const std::size_t xstep = std::max<std::size_t>(1, x.size() / max_checks);
  for (std::size_t i = 0; i < x.size(); i += xstep)
    result.worst_input_error = std::max(result.worst_input_error, relative_error(dx[i], numeric(x[i])));
  return result;
}

template <class NetT>
void require_gradients_match(std::size_t batch = 3, double tolerance = 1e-6) {
  NetT net{11};
  const GradientCheck check = check_gradients(net, batch);
  INFO(NetT::signature());
  CHECK(check.worst_parameter_error < tolerance);
  CHECK(check.worst_input_error < tolerance);
}

}  // namespace ctnn::testing
