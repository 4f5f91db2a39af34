#pragma once
// Dataset: images (N x C x H x W floats) with one integer class label each.
//
// Requires: as many labels as images, every label >= 0 and, when the class count is given,
//           below it.
// Ensures:  size() == images().shape(0) == labels().size(); classes() > every label.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "../config.hpp"
#include "../error.hpp"

namespace ctnn::data {

namespace detail {

// Numbers in error messages: 0.8 -> "0.8" (std::to_string would print "0.800000").
CTNN_COLD inline std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace detail

class Dataset {
 public:
  using Images = xt::xtensor<float, 4>;  // (N, C, H, W) row-major

  Dataset() = default;  // empty: no samples, shape 0 x 0 x 0

  // `classes == 0` means "max label + 1".
  Dataset(Images images, std::vector<std::int32_t> labels, std::size_t classes = 0)
      : images_(std::move(images)), labels_(std::move(labels)) {
    if (images_.shape(0) != labels_.size())
      throw ConfigError("Dataset: " + std::to_string(images_.shape(0)) + " images but " +
                        std::to_string(labels_.size()) + " labels; each image needs one label");
    std::size_t needed = 0;
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (labels_[i] < 0)
        throw ConfigError("Dataset: label " + std::to_string(labels_[i]) + " at index " +
                          std::to_string(i) + " is negative; labels are class indices 0, 1, ...");
      needed = std::max(needed, static_cast<std::size_t>(labels_[i]) + 1);
    }
    if (classes != 0 && needed > classes)
      throw ConfigError("Dataset: label " + std::to_string(needed - 1) + " does not fit " +
                        std::to_string(classes) +
                        " classes (labels must be below the class count)");
    classes_ = classes != 0 ? classes : needed;
  }

  std::size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }

  const Images& images() const { return images_; }
  const std::vector<std::int32_t>& labels() const { return labels_; }

  // All pixels, flat; writable so that transforms (normalize) can work in place without
  // being able to break the image/label invariant.
  std::span<float> pixels() { return {images_.data(), images_.size()}; }
  std::span<const float> pixels() const { return {images_.data(), images_.size()}; }

  // (C, H, W) of one sample.
  std::array<std::size_t, 3> sample_shape() const {
    return {images_.shape(1), images_.shape(2), images_.shape(3)};
  }
  std::size_t channels() const { return images_.shape(1); }
  // C * H * W: floats per sample.
  std::size_t sample_size() const { return images_.shape(1) * images_.shape(2) * images_.shape(3); }
  std::size_t classes() const { return classes_; }

  // The samples at `indices`, in that order (indices may repeat).
  CTNN_COLD Dataset subset(std::span<const std::size_t> indices) const {
    const auto [c, h, w] = sample_shape();
    const std::size_t stride = sample_size();
    Images images(Images::shape_type{indices.size(), c, h, w});
    std::vector<std::int32_t> labels(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const std::size_t from = indices[i];
      if (from >= size())
        throw ConfigError("Dataset::subset: index " + std::to_string(from) + " is out of range (" +
                          std::to_string(size()) + " samples)");
      std::copy_n(images_.data() + from * stride, stride, images.data() + i * stride);
      labels[i] = labels_[from];
    }
    return Dataset(std::move(images), std::move(labels), classes_);
  }

  // The first min(n, size()) samples.
  CTNN_COLD Dataset first(std::size_t n) const {
    n = std::min(n, size());
    std::vector<std::size_t> indices(n);
    for (std::size_t i = 0; i < n; ++i) indices[i] = i;
    return subset(indices);
  }

 private:
  Images images_ = Images(Images::shape_type{0, 0, 0, 0});
  std::vector<std::int32_t> labels_;
  std::size_t classes_ = 0;
};

}  // namespace ctnn::data
