#pragma once
// Static geometry of a convolution or pooling window, passed to kernels as a template argument
// so every loop bound is a compile-time constant.
#include <cstddef>

namespace ctnn::kernels {

struct ConvGeometry {
  std::size_t channels, height, width;            // input  (C,H,W)
  std::size_t filters, kernel, stride, padding;   // weight (F,C,K,K)
  std::size_t out_height, out_width;              // output (F,OH,OW)

  constexpr std::size_t input_size() const { return channels * height * width; }
  constexpr std::size_t output_size() const { return filters * out_height * out_width; }
  constexpr std::size_t patch_size() const { return channels * kernel * kernel; }   // GEMM K
  constexpr std::size_t out_pixels() const { return out_height * out_width; }       // GEMM N
};

struct PoolGeometry {
  std::size_t channels, height, width;  // input (C,H,W)
  std::size_t window, stride;
  std::size_t out_height, out_width;    // output (C,OH,OW)

  constexpr std::size_t input_size() const { return channels * height * width; }
  constexpr std::size_t output_size() const { return channels * out_height * out_width; }
};

}  // namespace ctnn::kernels
