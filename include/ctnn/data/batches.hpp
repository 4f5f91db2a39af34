#pragma once
// Batches: minibatches of a Dataset, in order or shuffled, without allocating per batch.
//
//   ctnn::data::Batches batches(train, 64);
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     batches.start_epoch(&rng);                  // nullptr: in dataset order
//     for (ctnn::data::Batch batch; batches.next(batch);)
//       step(batch.images, batch.labels, batch.size);
//   }
//
// Requires: the Dataset outlives the Batches and keeps its size while they are in use.
// Ensures:  each epoch visits every sample exactly once; every batch has batch_size() samples
//           except possibly the last; a batch's pointers stay valid until the next call to next().
// For exact resume from a checkpoint, save order() and position() and hand them to restore().
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "../random.hpp"
#include "dataset.hpp"
#include "split.hpp"

namespace ctnn::data {

// One minibatch, pointing into the loader's buffers.
struct Batch {
  const float* images = nullptr;         // (size, C, H, W) row-major
  const std::int32_t* labels = nullptr;  // (size)
  std::size_t size = 0;
};

class Batches {
 public:
  Batches(const Dataset& data, std::size_t batch_size)
      : data_(&data), batch_size_(batch_size), order_(data.size()) {
    if (batch_size == 0) throw ConfigError("Batches: batch_size must be at least 1, got 0");
    // Buffers are sized once here; a batch never holds more than this.
    const std::size_t capacity = std::min(batch_size, data.size());
    images_.resize(capacity * data.sample_size());
    labels_.resize(capacity);
    start_epoch(nullptr);
  }

  // A temporary dataset would die before the first batch.
  Batches(Dataset&&, std::size_t) = delete;

  // Starts a new epoch: a fresh permutation drawn from `rng`, or dataset order when it is null.
  // The permutation depends only on the state of `rng`, not on earlier epochs.
  void start_epoch(Rng* rng) {
    if (rng != nullptr) {
      detail::shuffled_order(order_, *rng);
    } else {
      std::iota(order_.begin(), order_.end(), std::size_t{0});
    }
    position_ = 0;
  }

  // Gathers the next batch into the internal buffers; false once the epoch is over.
  bool next(Batch& batch) {
    check_size();
    if (position_ >= order_.size()) {
      batch = Batch{};
      return false;
    }
    const std::size_t count = std::min(batch_size_, order_.size() - position_);
    const std::size_t stride = data_->sample_size();
    const float* pixels = data_->pixels().data();
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t sample = order_[position_ + i];
      std::copy_n(pixels + sample * stride, stride, images_.data() + i * stride);
      labels_[i] = data_->labels()[sample];
    }
    position_ += count;
    batch = Batch{images_.data(), labels_.data(), count};
    return true;
  }

  std::size_t batch_size() const { return batch_size_; }
  // Batches in a full epoch, the last one possibly smaller.
  std::size_t batches_per_epoch() const { return (order_.size() + batch_size_ - 1) / batch_size_; }

  // The sample order of the current epoch, and how many of its samples were already handed out.
  const std::vector<std::size_t>& order() const { return order_; }
  std::size_t position() const { return position_; }

  // Resumes at a saved state: `order` must be a permutation of 0 .. size-1, and
  // position <= size.
  void restore(std::span<const std::size_t> order, std::size_t position) {
    const std::size_t n = data_->size();
    if (order.size() != n)
      throw ConfigError("Batches::restore: the saved order has " + std::to_string(order.size()) +
                        " entries but the dataset has " + std::to_string(n) + " samples");
    if (position > n)
      throw ConfigError("Batches::restore: position " + std::to_string(position) +
                        " is past the end of the epoch (" + std::to_string(n) + " samples)");
    std::vector<bool> seen(n, false);
    for (const std::size_t index : order) {
      if (index >= n || seen[index])
        throw ConfigError("Batches::restore: the saved order is not a permutation of the " +
                          std::to_string(n) + " samples (index " + std::to_string(index) +
                          (index >= n ? " is out of range)" : " repeats)"));
      seen[index] = true;
    }
    std::copy(order.begin(), order.end(), order_.begin());
    position_ = position;
  }

 private:
  // The dataset must not change size under the loader; catch it rather than read out of bounds.
  void check_size() const {
    const std::size_t capacity = std::min(batch_size_, order_.size());
    if (data_->size() != order_.size() || data_->sample_size() * capacity != images_.size())
      throw ConfigError("Batches: the dataset changed size after the loader was made (" +
                        std::to_string(order_.size()) + " samples then, " +
                        std::to_string(data_->size()) + " now)");
  }

  const Dataset* data_;
  std::size_t batch_size_;
  std::vector<std::size_t> order_;
  std::size_t position_ = 0;
  std::vector<float> images_;
  std::vector<std::int32_t> labels_;
};

}  // namespace ctnn::data
