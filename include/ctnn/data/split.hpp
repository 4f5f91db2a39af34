#pragma once
// Splitting a Dataset at random into a training part and a validation part.
//
//   auto [train, validation] = ctnn::data::split(data, 0.9, seed);
//
// Membership is drawn with ctnn::Rng, so the same seed gives the same split on every platform.
// Each part keeps the samples in their original relative order.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "../random.hpp"
#include "dataset.hpp"

namespace ctnn::data {

namespace detail {

// Fisher-Yates: a uniform permutation of 0 .. n-1, written into `order`.
inline void shuffled_order(std::vector<std::size_t>& order, Rng& rng) {
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
}

}  // namespace detail

struct Split {
  Dataset train;
  Dataset validation;
};

// round(train_fraction * size) samples go to `train`, the rest to `validation`.
// Requires 0 < train_fraction < 1 and both parts non-empty.
CTNN_COLD inline Split split(const Dataset& data, double train_fraction, std::uint64_t seed) {
  if (!(train_fraction > 0.0 && train_fraction < 1.0))  // also rejects NaN
    throw ConfigError("split: train_fraction must be strictly between 0 and 1, got " +
                      detail::format_number(train_fraction));
  const std::size_t n = data.size();
  const auto train_size =
      static_cast<std::size_t>(std::llround(train_fraction * static_cast<double>(n)));
  if (train_size == 0 || train_size == n)
    throw ConfigError("split: train_fraction " + detail::format_number(train_fraction) + " of " +
                      std::to_string(n) + " samples leaves the " +
                      (train_size == 0 ? "training" : "validation") + " part empty");

  std::vector<std::size_t> order(n);
  Rng rng(seed);
  detail::shuffled_order(order, rng);
  const auto middle = order.begin() + static_cast<std::ptrdiff_t>(train_size);
  std::sort(order.begin(), middle);
  std::sort(middle, order.end());
  return {data.subset(std::span(order).first(train_size)),
          data.subset(std::span(order).subspan(train_size))};
}

}  // namespace ctnn::data
