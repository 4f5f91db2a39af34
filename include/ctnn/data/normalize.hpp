#pragma once
// Per-channel standardisation: x = (x - mean[c]) / std[c].
//
// Compute the statistics on the training set only and apply the same ones to validation and
// test data, so no information leaks from the held-out sets:
//
//   const auto stats = ctnn::data::channel_stats(train);
//   ctnn::data::normalize(train, stats);
//   ctnn::data::normalize(test, stats);
#include <cmath>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"
#include "dataset.hpp"

namespace ctnn::data {

struct ChannelStats {
  std::vector<float> mean;  // (C)
  std::vector<float> std;   // (C) population standard deviation
};

// Mean and standard deviation of each channel over all samples and pixels.
inline ChannelStats channel_stats(const Dataset& data) {
  if (data.empty()) throw ConfigError("channel_stats: the dataset is empty");
  const auto [channels, h, w] = data.sample_shape();
  const std::size_t plane = h * w;
  const auto pixels = data.pixels();
  ChannelStats stats{std::vector<float>(channels), std::vector<float>(channels)};
  for (std::size_t c = 0; c < channels; ++c) {
    // Two passes in double: one-pass sums of squares lose the variance of [0, 1] pixels.
    double sum = 0;
    for (std::size_t i = 0; i < data.size(); ++i)
      for (std::size_t p = 0; p < plane; ++p) sum += pixels[(i * channels + c) * plane + p];
    const double count = static_cast<double>(data.size() * plane);
    const double mean = sum / count;
    double squares = 0;
    for (std::size_t i = 0; i < data.size(); ++i)
      for (std::size_t p = 0; p < plane; ++p) {
        const double d = pixels[(i * channels + c) * plane + p] - mean;
        squares += d * d;
      }
    stats.mean[c] = static_cast<float>(mean);
    stats.std[c] = static_cast<float>(std::sqrt(squares / count));
  }
  return stats;
}

// Standardises `data` in place with the given statistics (one mean and std per channel, std > 0).
inline void normalize(Dataset& data, const ChannelStats& stats) {
  const std::size_t channels = data.channels();
  if (stats.mean.size() != channels || stats.std.size() != channels)
    throw ConfigError("normalize: the statistics have " + std::to_string(stats.mean.size()) +
                      " means and " + std::to_string(stats.std.size()) + " deviations for " +
                      std::to_string(channels) + " channels");
  for (std::size_t c = 0; c < channels; ++c)
    if (!(stats.std[c] > 0.0f) || !std::isfinite(stats.std[c]) || !std::isfinite(stats.mean[c]))
      throw ConfigError(
          "normalize: channel " + std::to_string(c) + " has mean " +
          detail::format_number(stats.mean[c]) + " and std " + detail::format_number(stats.std[c]) +
          "; the std must be finite and > 0 (a constant channel cannot be standardised)");
  const std::size_t plane = channels == 0 ? 0 : data.sample_size() / channels;
  const auto pixels = data.pixels();
  for (std::size_t i = 0; i < data.size(); ++i)
    for (std::size_t c = 0; c < channels; ++c) {
      const float mean = stats.mean[c], scale = 1.0f / stats.std[c];
      float* channel = pixels.data() + (i * channels + c) * plane;
      for (std::size_t p = 0; p < plane; ++p) channel[p] = (channel[p] - mean) * scale;
    }
}

}  // namespace ctnn::data
