// Fashion-MNIST and the generic image/label loader: the real data when it is installed, tiny
// synthetic files in a temp dir otherwise (and always for the error cases).
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "ctnn/data/fashion_mnist.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using ctnn::FileError;
using ctnn::data::Dataset;
using ctnn::data::fashion_mnist;
using ctnn::data::load_idx_dataset;
using Bytes = std::vector<std::uint8_t>;

const fs::path installed_dir = "/usr/share/datasets/fashion-mnist";

// Sets an environment variable for one scope and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& data) {
  Bytes bytes{0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<std::uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void write_file(const fs::path& path, const Bytes& bytes, bool gzip) {
  if (gzip) {
    gzFile file = gzopen(path.string().c_str(), "wb");
    REQUIRE(file != nullptr);
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
    REQUIRE(gzclose(file) == Z_OK);
  } else {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
}

// n synthetic h x w images (pixel p of image i is (i + p) % 256) and labels i % 10.
Bytes image_data(std::size_t n, std::size_t pixels) {
  Bytes data(n * pixels);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < pixels; ++p)
      data[i * pixels + p] = static_cast<std::uint8_t>((i + p) % 256);
  return data;
}
Bytes label_data(std::size_t n) {
  Bytes data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i % 10);
  return data;
}

// A tiny Fashion-MNIST lookalike: train gzipped, test un-gzipped (both names must work).
void write_tiny_fashion_mnist(const fs::path& dir, std::size_t train, std::size_t test) {
  write_file(dir / "train-images-idx3-ubyte.gz",
             idx_bytes({std::uint32_t(train), 28, 28}, image_data(train, 784)), true);
  write_file(dir / "train-labels-idx1-ubyte.gz",
             idx_bytes({std::uint32_t(train)}, label_data(train)), true);
  write_file(dir / "t10k-images-idx3-ubyte",
             idx_bytes({std::uint32_t(test), 28, 28}, image_data(test, 784)), false);
  write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes({std::uint32_t(test)}, label_data(test)),
             false);
}

template <class Fn>
FileError file_error(Fn&& fn) {
  try {
    fn();
  } catch (const FileError& error) {
    return error;
  }
  FAIL("expected a FileError");
  throw;  // not reached
}

}  // namespace

TEST_CASE("the installed Fashion-MNIST has the published sizes and labels",
          "[data][fashion_mnist]") {
  if (!fs::exists(installed_dir / "train-images-idx3-ubyte.gz") &&
      !fs::exists(installed_dir / "train-images-idx3-ubyte")) {
    WARN("SKIPPED: Fashion-MNIST is not installed in " << installed_dir
                                                       << " (apt install dataset-fashion-mnist)");
    return;
  }
  const auto data = fashion_mnist(installed_dir);
  REQUIRE(data.train.size() == 60000);
  REQUIRE(data.test.size() == 10000);
  CHECK(data.train.sample_shape() == std::array<std::size_t, 3>{1, 28, 28});
  CHECK(data.test.sample_shape() == std::array<std::size_t, 3>{1, 28, 28});
  CHECK(data.train.classes() == 10);
  CHECK(data.test.classes() == 10);

  std::array<std::size_t, 10> train_histogram{}, test_histogram{};
  for (const auto label : data.train.labels())
    ++train_histogram.at(static_cast<std::size_t>(label));
  for (const auto label : data.test.labels()) ++test_histogram.at(static_cast<std::size_t>(label));
  for (std::size_t c = 0; c < 10; ++c) {
    CHECK(train_histogram[c] == 6000);
    CHECK(test_histogram[c] == 1000);
  }

  for (const auto* set : {&data.train, &data.test}) {
    const auto [lo, hi] = std::minmax_element(set->pixels().begin(), set->pixels().end());
    CHECK(*lo == 0.0f);
    CHECK(*hi == 1.0f);
  }
  // The first training image is an ankle boot (label 9) in every copy of the data set.
  CHECK(data.train.labels().front() == 9);
  CHECK(ctnn::data::fashion_mnist_classes[9] == "Ankle boot");
}

TEST_CASE("CTNN_FASHION_MNIST overrides the default directory", "[data][fashion_mnist]") {
  TempDir dir;
  write_tiny_fashion_mnist(dir.path, 30, 12);
  ScopedEnv env("CTNN_FASHION_MNIST", dir.path.string());
  CHECK(ctnn::data::default_fashion_mnist_dir() == dir.path);

  const auto data = fashion_mnist();
  CHECK(data.train.size() == 30);
  CHECK(data.test.size() == 12);
  CHECK(data.train.sample_shape() == std::array<std::size_t, 3>{1, 28, 28});
  CHECK(data.train.classes() == 10);
  CHECK(data.test.labels()[11] == 1);
  // Bytes become [0, 1] floats: image 3, pixel 5 held byte 8.
  CHECK(data.train.images()(3, 0, 0, 5) == Approx(8.0f / 255.0f));
  CHECK(data.train.images()(1, 0, 9, 3) == Approx(float((1 + 9 * 28 + 3) % 256) / 255.0f));
}

TEST_CASE("an empty CTNN_FASHION_MNIST means the default directory", "[data][fashion_mnist]") {
  ScopedEnv env("CTNN_FASHION_MNIST", "");
  CHECK(ctnn::data::default_fashion_mnist_dir() == installed_dir);
}

TEST_CASE("fashion_mnist keeps only the first `limit` samples", "[data][fashion_mnist]") {
  TempDir dir;
  write_tiny_fashion_mnist(dir.path, 30, 12);
  const auto data = fashion_mnist(dir.path, 5);
  CHECK(data.train.size() == 5);
  CHECK(data.test.size() == 5);
  CHECK(data.train.labels() == std::vector<std::int32_t>{0, 1, 2, 3, 4});
  CHECK(data.train.classes() == 10);  // fixed for Fashion-MNIST, not max label + 1
  CHECK(fashion_mnist(dir.path, 1000).train.size() == 30);
}

TEST_CASE("fashion_mnist names the missing file and how to provide it", "[data][fashion_mnist]") {
  TempDir dir;
  const auto error = file_error([&] { fashion_mnist(dir.path); });
  CHECK(error.path() == (dir / "train-images-idx3-ubyte.gz").string());
  CHECK_THAT(error.expected(),
             Catch::Contains("train-images-idx3-ubyte") && Catch::Contains("CTNN_FASHION_MNIST"));
  CHECK(error.found() == "nothing (no such file)");
}

TEST_CASE("fashion_mnist rejects labels out of range, count mismatches and wrong image sizes",
          "[data][fashion_mnist]") {
  SECTION("a label of 10") {
    TempDir dir;
    write_tiny_fashion_mnist(dir.path, 30, 12);
    Bytes labels = label_data(30);
    labels[17] = 10;
    write_file(dir / "train-labels-idx1-ubyte.gz", idx_bytes({30}, labels), true);
    const auto error = file_error([&] { fashion_mnist(dir.path); });
    CHECK(error.path() == (dir / "train-labels-idx1-ubyte.gz").string());
    CHECK(error.expected() == "labels 0 to 9");
    CHECK(error.found() == "label 10 at index 17");
    // Checked even beyond the limit: a bad label means a damaged file.
    CHECK_THROWS_AS(fashion_mnist(dir.path, 5), FileError);
  }
  SECTION("fewer labels than images") {
    TempDir dir;
    write_tiny_fashion_mnist(dir.path, 30, 12);
    write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes({11}, label_data(11)), false);
    const auto error = file_error([&] { fashion_mnist(dir.path); });
    CHECK(error.path() == (dir / "t10k-labels-idx1-ubyte").string());
    CHECK_THAT(error.expected(), Catch::StartsWith("12 labels, one per image in"));
    CHECK(error.found() == "11");
  }
  SECTION("27 x 28 images") {
    TempDir dir;
    write_tiny_fashion_mnist(dir.path, 30, 12);
    write_file(dir / "t10k-images-idx3-ubyte", idx_bytes({12, 27, 28}, image_data(12, 27 * 28)),
               false);
    const auto error = file_error([&] { fashion_mnist(dir.path); });
    CHECK(error.path() == (dir / "t10k-images-idx3-ubyte").string());
    CHECK(error.expected() == "1 x 28 x 28 images");
    CHECK(error.found() == "1 x 27 x 28");
  }
  SECTION("labels and images swapped") {
    TempDir dir;
    write_tiny_fashion_mnist(dir.path, 30, 12);
    fs::rename(dir / "t10k-images-idx3-ubyte", dir / "tmp");
    fs::rename(dir / "t10k-labels-idx1-ubyte", dir / "t10k-images-idx3-ubyte");
    fs::rename(dir / "tmp", dir / "t10k-labels-idx1-ubyte");
    const auto error = file_error([&] { fashion_mnist(dir.path); });
    CHECK(error.path() == (dir / "t10k-images-idx3-ubyte").string());
    CHECK_THAT(error.expected(), Catch::StartsWith("images with 3 dimensions"));
  }
}

TEST_CASE("load_idx_dataset reads channels and counts classes", "[data][fashion_mnist]") {
  TempDir dir;
  // 4 images of 3 x 2 x 2 with labels up to 6.
  write_file(dir / "images", idx_bytes({4, 3, 2, 2}, image_data(4, 12)), false);
  write_file(dir / "labels.gz", idx_bytes({4}, {6, 0, 2, 2}), true);
  const Dataset data = load_idx_dataset(dir / "images", dir / "labels.gz");
  CHECK(data.size() == 4);
  CHECK(data.sample_shape() == std::array<std::size_t, 3>{3, 2, 2});
  CHECK(data.classes() == 7);
  CHECK(data.labels() == std::vector<std::int32_t>{6, 0, 2, 2});
  CHECK(data.images()(2, 1, 0, 1) == Approx(float(2 + 4 + 1) / 255.0f));

  CHECK(
      load_idx_dataset(dir / "images", dir / "labels.gz", ctnn::data::all_samples, 20).classes() ==
      20);
  CHECK(load_idx_dataset(dir / "images", dir / "labels.gz", 2).labels() ==
        std::vector<std::int32_t>{6, 0});
  CHECK(file_error([&] { load_idx_dataset(dir / "images", dir / "labels.gz", 4, 5); }).found() ==
        "label 6 at index 0");
}
