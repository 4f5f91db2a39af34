// Dataset, split, normalize and Batches on small synthetic data.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

#include "ctnn/data/batches.hpp"
#include "ctnn/data/dataset.hpp"
#include "ctnn/data/normalize.hpp"
#include "ctnn/data/split.hpp"

namespace {

using ctnn::ConfigError;
using ctnn::Rng;
using ctnn::data::Batch;
using ctnn::data::Batches;
using ctnn::data::Dataset;

// n samples of c x 2 x 3; every pixel of sample i is i (so a pixel identifies its sample),
// label i % 5.
Dataset numbered(std::size_t n, std::size_t c = 1) {
  Dataset::Images images(Dataset::Images::shape_type{n, c, 2, 3});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<std::int32_t>(i % 5);
    std::fill_n(images.data() + i * c * 6, c * 6, static_cast<float>(i));
  }
  return Dataset(std::move(images), std::move(labels));
}

// The sample numbers in a dataset built by numbered().
std::vector<std::size_t> ids(const Dataset& data) {
  std::vector<std::size_t> result;
  for (std::size_t i = 0; i < data.size(); ++i)
    result.push_back(static_cast<std::size_t>(data.pixels()[i * data.sample_size()]));
  return result;
}

// Sample numbers of every batch of the current epoch.
std::vector<std::vector<std::size_t>> epoch(Batches& batches, std::size_t sample_size) {
  std::vector<std::vector<std::size_t>> result;
  for (Batch batch; batches.next(batch);) {
    std::vector<std::size_t> samples;
    for (std::size_t i = 0; i < batch.size; ++i) {
      const auto id = static_cast<std::size_t>(batch.images[i * sample_size]);
      // Every pixel of the sample and its label came along.
      for (std::size_t p = 0; p < sample_size; ++p)
        REQUIRE(batch.images[i * sample_size + p] == float(id));
      REQUIRE(batch.labels[i] == static_cast<std::int32_t>(id % 5));
      samples.push_back(id);
    }
    result.push_back(samples);
  }
  return result;
}

std::vector<std::size_t> flatten(const std::vector<std::vector<std::size_t>>& batches) {
  std::vector<std::size_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

std::vector<std::size_t> range(std::size_t n) {
  std::vector<std::size_t> r(n);
  std::iota(r.begin(), r.end(), std::size_t{0});
  return r;
}

}  // namespace

TEST_CASE("Dataset reports its shape and classes", "[data][dataset]") {
  const Dataset data = numbered(12, 3);
  CHECK(data.size() == 12);
  CHECK(data.sample_shape() == std::array<std::size_t, 3>{3, 2, 3});
  CHECK(data.sample_size() == 18);
  CHECK(data.channels() == 3);
  CHECK(data.classes() == 5);
  CHECK(Dataset(data.images(), data.labels(), 8).classes() == 8);

  const Dataset empty;
  CHECK(empty.size() == 0);
  CHECK(empty.empty());
  CHECK(empty.classes() == 0);

  CHECK(ids(data.first(4)) == range(4));
  CHECK(ids(data.subset(std::vector<std::size_t>{5, 1, 5})) == std::vector<std::size_t>{5, 1, 5});
  CHECK_THROWS_AS(data.subset(std::vector<std::size_t>{12}), ConfigError);
}

TEST_CASE("Dataset rejects mismatched or invalid labels", "[data][dataset]") {
  const Dataset data = numbered(4);
  CHECK_THROWS_WITH(Dataset(data.images(), {0, 1, 2}),
                    "Dataset: 4 images but 3 labels; each image needs one label");
  CHECK_THROWS_WITH(Dataset(data.images(), {0, 1, -2, 3}), Catch::Contains("label -2 at index 2"));
  CHECK_THROWS_WITH(Dataset(data.images(), {0, 1, 2, 3}, 3),
                    Catch::Contains("does not fit 3 classes"));
}

TEST_CASE("split sizes, disjointness and coverage", "[data][split]") {
  const Dataset data = numbered(100);
  auto [train, validation] = ctnn::data::split(data, 0.8, 42);
  CHECK(train.size() == 80);
  CHECK(validation.size() == 20);
  CHECK(train.classes() == 5);

  auto train_ids = ids(train), validation_ids = ids(validation);
  CHECK(std::is_sorted(train_ids.begin(), train_ids.end()));  // original order kept
  CHECK(std::is_sorted(validation_ids.begin(), validation_ids.end()));
  std::vector<std::size_t> all = train_ids;
  all.insert(all.end(), validation_ids.begin(), validation_ids.end());
  std::sort(all.begin(), all.end());
  CHECK(all == range(100));       // disjoint and complete
  CHECK(train_ids != range(80));  // really shuffled before splitting

  // Labels travel with their images.
  for (std::size_t i = 0; i < train.size(); ++i)
    CHECK(train.labels()[i] == static_cast<std::int32_t>(train_ids[i] % 5));

  CHECK(ctnn::data::split(data, 0.333, 1).train.size() == 33);
  CHECK(ctnn::data::split(numbered(3), 0.5, 1).train.size() == 2);  // rounds half away from zero
}

TEST_CASE("split is deterministic for a seed", "[data][split]") {
  const Dataset data = numbered(50);
  const auto a = ctnn::data::split(data, 0.7, 9);
  const auto b = ctnn::data::split(data, 0.7, 9);
  const auto c = ctnn::data::split(data, 0.7, 10);
  CHECK(ids(a.train) == ids(b.train));
  CHECK(ids(a.validation) == ids(b.validation));
  CHECK(ids(a.train) != ids(c.train));
}

TEST_CASE("split rejects fractions that leave nothing to split", "[data][split]") {
  const Dataset data = numbered(10);
  for (const double bad : {0.0, 1.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()})
    CHECK_THROWS_WITH(ctnn::data::split(data, bad, 1),
                      Catch::Contains("train_fraction must be strictly between 0 and 1"));
  CHECK_THROWS_WITH(ctnn::data::split(data, 0.01, 1),
                    Catch::Contains("train_fraction") && Catch::Contains("training part empty"));
  CHECK_THROWS_WITH(ctnn::data::split(data, 0.99, 1),
                    Catch::Contains("train_fraction") && Catch::Contains("validation part empty"));
  CHECK_THROWS_AS(ctnn::data::split(Dataset(), 0.5, 1), ConfigError);
}

TEST_CASE("channel_stats and normalize standardise each channel", "[data][normalize]") {
  Dataset data = numbered(4, 2);  // both channels hold 0, 1, 2, 3
  auto pixels = data.pixels();
  for (std::size_t i = 0; i < 4; ++i)  // channel 1 becomes 10 * i + 5
    for (std::size_t p = 0; p < 6; ++p) pixels[(i * 2 + 1) * 6 + p] = 10.0f * float(i) + 5.0f;

  const auto stats = ctnn::data::channel_stats(data);
  REQUIRE(stats.mean.size() == 2);
  CHECK(stats.mean[0] == Approx(1.5));
  CHECK(stats.std[0] == Approx(std::sqrt(1.25)));
  CHECK(stats.mean[1] == Approx(20.0));
  CHECK(stats.std[1] == Approx(10.0 * std::sqrt(1.25)));

  ctnn::data::normalize(data, stats);
  const auto after = ctnn::data::channel_stats(data);
  for (std::size_t c = 0; c < 2; ++c) {
    CHECK(after.mean[c] == Approx(0.0).margin(1e-6));
    CHECK(after.std[c] == Approx(1.0));
  }
  CHECK(data.images()(0, 0, 0, 0) == Approx(-1.5 / std::sqrt(1.25)));
}

TEST_CASE("normalize rejects mismatched or degenerate statistics", "[data][normalize]") {
  Dataset data = numbered(4, 2);
  CHECK_THROWS_WITH(ctnn::data::normalize(data, {{0.0f}, {1.0f}}),
                    Catch::Contains("for 2 channels"));
  CHECK_THROWS_WITH(ctnn::data::normalize(data, {{0.0f, 0.0f}, {1.0f, 0.0f}}),
                    Catch::Contains("channel 1") && Catch::Contains("std must be finite and > 0"));
  CHECK_THROWS_AS(ctnn::data::channel_stats(Dataset()), ConfigError);
}

TEST_CASE("Batches in order: sizes, the smaller last batch and the end", "[data][batches]") {
  const Dataset data = numbered(10);
  Batches batches(data, 4);
  CHECK(batches.batch_size() == 4);
  CHECK(batches.batches_per_epoch() == 3);
  const auto first = epoch(batches, data.sample_size());
  REQUIRE(first.size() == 3);
  CHECK(first[0] == std::vector<std::size_t>{0, 1, 2, 3});
  CHECK(first[1] == std::vector<std::size_t>{4, 5, 6, 7});
  CHECK(first[2] == std::vector<std::size_t>{8, 9});

  // Finished: next() keeps saying so until a new epoch starts.
  Batch batch;
  CHECK_FALSE(batches.next(batch));
  CHECK(batch.size == 0);
  batches.start_epoch(nullptr);
  CHECK(epoch(batches, data.sample_size()) == first);

  CHECK_THROWS_WITH(Batches(data, 0), Catch::Contains("batch_size must be at least 1"));
}

TEST_CASE("Batches reuse their buffers", "[data][batches]") {
  const Dataset data = numbered(10);
  Batches batches(data, 3);
  Batch batch;
  REQUIRE(batches.next(batch));
  const float* images = batch.images;
  const std::int32_t* labels = batch.labels;
  while (batches.next(batch)) {
    CHECK(batch.images == images);
    CHECK(batch.labels == labels);
  }
}

TEST_CASE("shuffled epochs cover every sample once and follow the Rng", "[data][batches]") {
  const Dataset data = numbered(23);
  Batches batches(data, 5);
  Rng rng(123);
  std::vector<std::vector<std::size_t>> orders;
  for (int e = 0; e < 3; ++e) {
    batches.start_epoch(&rng);
    const auto batched = epoch(batches, data.sample_size());
    CHECK(batched.size() == 5);
    CHECK(batched.back().size() == 3);
    auto seen = flatten(batched);
    CHECK(seen == batches.order());
    orders.push_back(seen);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == range(23));  // each sample exactly once
  }
  CHECK(orders[0] != orders[1]);
  CHECK(orders[0] != range(23));

  // The same seed gives the same epochs.
  Batches again(data, 5);
  Rng same(123);
  for (int e = 0; e < 3; ++e) {
    again.start_epoch(&same);
    CHECK(flatten(epoch(again, data.sample_size())) == orders[static_cast<std::size_t>(e)]);
  }
}

TEST_CASE("a batch larger than the dataset gives one batch", "[data][batches]") {
  const Dataset data = numbered(3);
  Batches batches(data, 64);
  CHECK(batches.batches_per_epoch() == 1);
  const auto batched = epoch(batches, data.sample_size());
  REQUIRE(batched.size() == 1);
  CHECK(batched[0] == range(3));
}

TEST_CASE("Batches resume exactly from a saved order and position", "[data][batches]") {
  const Dataset data = numbered(17);
  Rng rng(5);
  Batches original(data, 4);
  original.start_epoch(&rng);
  Batch batch;
  REQUIRE(original.next(batch));
  REQUIRE(original.next(batch));
  const std::vector<std::size_t> saved_order = original.order();
  const std::size_t saved_position = original.position();
  CHECK(saved_position == 8);
  const auto rest = epoch(original, data.sample_size());

  Batches resumed(data, 4);
  resumed.restore(saved_order, saved_position);
  CHECK(resumed.order() == saved_order);
  CHECK(resumed.position() == 8);
  CHECK(epoch(resumed, data.sample_size()) == rest);

  // A position at the end resumes into a finished epoch.
  resumed.restore(saved_order, 17);
  CHECK_FALSE(resumed.next(batch));
}

TEST_CASE("Batches::restore rejects states that do not fit the dataset", "[data][batches]") {
  const Dataset data = numbered(4);
  Batches batches(data, 2);
  const std::vector<std::size_t> wrong_size{0, 1, 2}, repeated{0, 1, 1, 3},
      out_of_range{0, 1, 2, 4};
  CHECK_THROWS_WITH(batches.restore(wrong_size, 0), Catch::Contains("3 entries"));
  CHECK_THROWS_WITH(batches.restore(repeated, 0), Catch::Contains("index 1 repeats"));
  CHECK_THROWS_WITH(batches.restore(out_of_range, 0), Catch::Contains("index 4 is out of range"));
  CHECK_THROWS_WITH(batches.restore(range(4), 5), Catch::Contains("position 5"));
  // A rejected restore leaves the state alone.
  CHECK(batches.order() == range(4));
  CHECK(batches.position() == 0);
}
