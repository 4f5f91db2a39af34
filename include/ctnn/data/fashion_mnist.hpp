#pragma once
// Loading image/label IDX pairs into Datasets, and Fashion-MNIST in particular.
//
// Pixels are scaled from bytes to [0, 1] floats. Fashion-MNIST is looked for in the directory
// named by the environment variable CTNN_FASHION_MNIST, else in /usr/share/datasets/fashion-mnist
// (Debian package dataset-fashion-mnist); each file may be gzipped (".gz") or not.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "dataset.hpp"
#include "idx.hpp"

namespace ctnn::data {

// "No limit" for the sample-count arguments below.
inline constexpr std::size_t all_samples = std::numeric_limits<std::size_t>::max();

// Reads an image IDX file ((N, H, W) or (N, C, H, W) bytes) and a label IDX file ((N) bytes)
// into a Dataset, keeping the first `limit` samples. `classes == 0` means "max label + 1"; a
// label at or above a given class count is an error naming the labels file.
inline Dataset load_idx_dataset(const std::filesystem::path& images_path,
                                const std::filesystem::path& labels_path,
                                std::size_t limit = all_samples, std::size_t classes = 0) {
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  const std::string images_name = images_path.string(), labels_name = labels_path.string();

  if (images.dims.size() != 3 && images.dims.size() != 4)
    throw FileError(
        images_name, "images with 3 dimensions (N x H x W) or 4 (N x C x H x W)",
        std::to_string(images.dims.size()) + " (" + detail::format_dims(images.dims) + ")");
  if (labels.dims.size() != 1)
    throw FileError(
        labels_name, "labels with 1 dimension (N)",
        std::to_string(labels.dims.size()) + " (" + detail::format_dims(labels.dims) + ")");
  if (labels.count() != images.count())
    throw FileError(labels_name,
                    std::to_string(images.count()) + " labels, one per image in " + images_name,
                    std::to_string(labels.count()));

  const bool has_channels = images.dims.size() == 4;
  const std::size_t c = has_channels ? images.dims[1] : 1;
  const std::size_t h = images.dims[has_channels ? 2 : 1];
  const std::size_t w = images.dims[has_channels ? 3 : 2];
  const std::size_t n = std::min(limit, images.count());

  // Every label is checked, not only the kept ones: a bad one means a damaged file.
  for (std::size_t i = 0; classes != 0 && i < labels.bytes.size(); ++i)
    if (labels.bytes[i] >= classes)
      throw FileError(
          labels_name, "labels 0 to " + std::to_string(classes - 1),
          "label " + std::to_string(labels.bytes[i]) + " at index " + std::to_string(i));
  std::vector<std::int32_t> label_values(labels.bytes.begin(),
                                         labels.bytes.begin() + static_cast<std::ptrdiff_t>(n));

  Dataset::Images pixels(Dataset::Images::shape_type{n, c, h, w});
  const std::size_t count = n * images.item_size();
  for (std::size_t i = 0; i < count; ++i)
    pixels.data()[i] = static_cast<float>(images.bytes[i]) / 255.0f;
  return Dataset(std::move(pixels), std::move(label_values), classes);
}

// A train set and a test set.
struct TrainTest {
  Dataset train;
  Dataset test;
};

// Fashion-MNIST class names, by label.
inline constexpr std::array<std::string_view, 10> fashion_mnist_classes = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// $CTNN_FASHION_MNIST if set and not empty, else the Debian package's directory.
CTNN_COLD inline std::filesystem::path default_fashion_mnist_dir() {
  if (const char* dir = std::getenv("CTNN_FASHION_MNIST"); dir != nullptr && *dir != '\0')
    return dir;
  return "/usr/share/datasets/fashion-mnist";
}

namespace detail {

// dir/name.gz if it exists, else dir/name if it exists; else an error naming both.
CTNN_COLD inline std::filesystem::path find_idx_file(const std::filesystem::path& dir,
                                                     const std::string& name) {
  std::error_code ec;
  const auto gz = dir / (name + ".gz");
  if (std::filesystem::exists(gz, ec)) return gz;
  const auto plain = dir / name;
  if (std::filesystem::exists(plain, ec)) return plain;
  throw FileError(gz.string(),
                  "an IDX file (" + name + ".gz or " + name +
                      "; install dataset-fashion-mnist "
                      "or set CTNN_FASHION_MNIST to the directory holding the files)",
                  "nothing (no such file)");
}

// One Fashion-MNIST part: 28 x 28 single-channel images, labels 0 to 9.
CTNN_COLD inline Dataset load_fashion_mnist_part(const std::filesystem::path& dir, const std::string& prefix,
                                                 std::size_t limit) {
  const auto images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const auto labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  Dataset data = load_idx_dataset(images_path, labels_path, limit, fashion_mnist_classes.size());
  const auto [c, h, w] = data.sample_shape();
  if (c != 1 || h != 28 || w != 28)
    throw FileError(images_path.string(), "1 x 28 x 28 images",
                    std::to_string(c) + " x " + std::to_string(h) + " x " + std::to_string(w));
  return data;
}

}  // namespace detail

// Fashion-MNIST from `dir`: 60000 training and 10000 test images (or the first `limit` of each).
CTNN_COLD inline TrainTest fashion_mnist(const std::filesystem::path& dir = default_fashion_mnist_dir(),
                                         std::size_t limit = all_samples) {
  return {detail::load_fashion_mnist_part(dir, "train", limit),
          detail::load_fashion_mnist_part(dir, "t10k", limit)};
}

}  // namespace ctnn::data
