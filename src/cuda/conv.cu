// Convolution and Dense on the device. Convolution is lowered to one cuBLAS GEMM per chunk of
// samples: im2col writes the chunk's columns side by side, (C*K*K, n*OH*OW), so
//   forward   Y' (F, n*OHW)   = W (F, CKK) x cols            then y = unpack(Y') + b
//   backward  dY' = pack(dy); dW (+)= dY' x cols^T;  dcols = W^T x dY';  dx = col2im(dcols)
// pack/unpack move between the batch-major (n, F, OHW) activations and the filter-major
// (F, n*OHW) GEMM operand. col2im gathers (one thread per input value, no atomics), so results
// do not depend on scheduling.
#include <climits>
#include <string>

#include "common.cuh"
#include "ctnn/kernels/cuda/kernels.hpp"

namespace ctnn::kernels::cuda {

namespace {

// The geometry in 32-bit form for index arithmetic inside a chunk (the workspace is capped below
// 2^31 floats, so every in-chunk index fits).
struct Dims {
  unsigned c, h, w, f, k, s, p, oh, ow;
  __host__ __device__ unsigned ckk() const { return c * k * k; }
};

Dims dims_of(const ConvGeometry& g) {
  return {unsigned(g.channels), unsigned(g.height), unsigned(g.width), unsigned(g.filters),
          unsigned(g.kernel),   unsigned(g.stride), unsigned(g.padding), unsigned(g.out_height),
          unsigned(g.out_width)};
}

// x: chunk of `samples` samples (C,H,W) => cols (CKK, samples*OHW), zero over the padding.
__global__ void im2col_chunk(Dims d, const float* __restrict__ x, float* __restrict__ cols,
                             unsigned samples) {
  const unsigned ohw = d.oh * d.ow, columns = samples * ohw, total = d.ckk() * columns;
  for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += gridDim.x * blockDim.x) {
    const unsigned row = e / columns, col = e - row * columns;
    const unsigned n = col / ohw, pix = col - n * ohw;
    const unsigned oy = pix / d.ow, ox = pix - oy * d.ow;
    const unsigned c = row / (d.k * d.k), kk = row - c * d.k * d.k;
    const unsigned ky = kk / d.k, kx = kk - ky * d.k;
    const int iy = int(oy * d.s + ky) - int(d.p), ix = int(ox * d.s + kx) - int(d.p);
    const bool inside = iy >= 0 && ix >= 0 && iy < int(d.h) && ix < int(d.w);
    cols[e] = inside ? x[(std::size_t(n) * d.c + c) * d.h * d.w + unsigned(iy) * d.w + unsigned(ix)]
                     : 0.0f;
  }
}

// dcols (CKK, samples*OHW) => dx chunk (samples, C, H, W), overwritten: each input value sums
// the column entries of every window position that covered it.
__global__ void col2im_chunk(Dims d, const float* __restrict__ dcols, float* __restrict__ dx,
                             unsigned samples) {
  const unsigned ohw = d.oh * d.ow, columns = samples * ohw, hw = d.h * d.w;
  const unsigned total = samples * d.c * hw;
  for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += gridDim.x * blockDim.x) {
    const unsigned n = e / (d.c * hw), rest = e - n * d.c * hw;
    const unsigned c = rest / hw, pix = rest - c * hw;
    const unsigned iy = pix / d.w, ix = pix - iy * d.w;
    float sum = 0.0f;
    for (unsigned ky = 0; ky < d.k; ++ky) {
      const int ty = int(iy + d.p) - int(ky);  // = oy * s
      if (ty < 0 || ty % int(d.s) != 0) continue;
      const unsigned oy = unsigned(ty) / d.s;
      if (oy >= d.oh) continue;
      for (unsigned kx = 0; kx < d.k; ++kx) {
        const int tx = int(ix + d.p) - int(kx);
        if (tx < 0 || tx % int(d.s) != 0) continue;
        const unsigned ox = unsigned(tx) / d.s;
        if (ox >= d.ow) continue;
        sum += dcols[((c * d.k + ky) * d.k + kx) * columns + n * ohw + oy * d.ow + ox];
      }
    }
    dx[e] = sum;
  }
}

// GEMM result (F, samples*OHW) => y chunk (samples, F, OHW) plus bias.
__global__ void unpack_add_bias(Dims d, const float* __restrict__ yt, const float* __restrict__ b,
                                float* __restrict__ y, unsigned samples) {
  const unsigned ohw = d.oh * d.ow, per_sample = d.f * ohw, total = samples * per_sample;
  for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += gridDim.x * blockDim.x) {
    const unsigned n = e / per_sample, rest = e - n * per_sample;
    const unsigned f = rest / ohw, pix = rest - f * ohw;
    y[e] = yt[f * samples * ohw + n * ohw + pix] + b[f];
  }
}

// dy chunk (samples, F, OHW) => (F, samples*OHW).
__global__ void pack(Dims d, const float* __restrict__ dy, float* __restrict__ dyt,
                     unsigned samples) {
  const unsigned ohw = d.oh * d.ow, per_sample = d.f * ohw, total = samples * per_sample;
  for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += gridDim.x * blockDim.x) {
    const unsigned n = e / per_sample, rest = e - n * per_sample;
    const unsigned f = rest / ohw, pix = rest - f * ohw;
    dyt[f * samples * ohw + n * ohw + pix] = dy[e];
  }
}

// db[f] = sum over the batch and the pixels of dy (B, F, P): a block per filter (any grid works:
// blocks stride over the filters), in double, in a fixed order. 32-bit indices when they suffice (cheaper divisions).
template <class I>
__global__ void __launch_bounds__(1024)
channel_sums(const float* __restrict__ dy, float* __restrict__ db, I batch,
                             I channels, I pixels) {
  const I count = batch * pixels;
  for (I f = blockIdx.x; f < channels; f += gridDim.x) {  // block-uniform loop
    double sum = 0.0;
    for (I i = threadIdx.x; i < count; i += blockDim.x) {
      const I n = i / pixels, p = i - n * pixels;
      sum += dy[(std::size_t(n) * channels + f) * pixels + p];
    }
    sum = detail::block_sum(sum);
    if (threadIdx.x == 0) db[f] = float(sum);
  }
}

void launch_channel_sums(const float* dy, float* db, std::size_t batch, std::size_t channels,
                         std::size_t pixels, const char* what) {
  constexpr int threads = 1024;
  if (batch * pixels < 0xffffffffu - threads)
    channel_sums<unsigned><<<unsigned(channels), threads>>>(dy, db, unsigned(batch),
                                                            unsigned(channels), unsigned(pixels));
  else
    channel_sums<std::size_t><<<unsigned(channels), threads>>>(dy, db, batch, channels, pixels);
  detail::check_launch(what);
}

// y (B, Out) += b (Out) per row.
__global__ void add_row_bias(float* __restrict__ y, const float* __restrict__ b, std::size_t batch,
                             std::size_t out) {
  const std::size_t total = batch * out;
  for (std::size_t i = detail::global_index(); i < total; i += detail::global_stride())
    y[i] += b[i % out];
}

void check_workspace(const char* who, std::size_t per_sample, std::size_t workspace_size) {
  if (per_sample > std::size_t(INT_MAX))
    throw ctnn::cuda::CudaError(std::string("ctnn CUDA backend: ") + who + ": one sample's columns (" +
                                std::to_string(per_sample) + " floats) exceed 2^31 values");
  if (workspace_size < per_sample)
    throw ctnn::cuda::CudaError(std::string("ctnn CUDA backend: ") + who + ": the workspace holds " +
                                std::to_string(workspace_size) + " floats, one sample needs " +
                                std::to_string(per_sample));
}

// Samples per chunk: as many as the workspace holds, capped so in-chunk indices stay 32-bit.
std::size_t chunk_samples(const ConvGeometry& g, std::size_t batch, std::size_t workspace_size) {
  const std::size_t per_sample = conv2d_workspace_per_sample(g);
  const std::size_t usable = workspace_size < std::size_t(INT_MAX) ? workspace_size : std::size_t(INT_MAX);
  std::size_t samples = usable / per_sample;
  samples = samples < batch ? samples : batch;
  // The activations of one chunk are indexed in 32 bits too.
  const std::size_t io = g.input_size() > g.output_size() ? g.input_size() : g.output_size();
  const std::size_t io_cap = std::size_t(INT_MAX) / io;
  samples = samples < io_cap ? samples : io_cap;
  return samples == 0 ? 1 : samples;
}

}  // namespace

void conv2d_forward(const ConvGeometry& g, const float* x, const float* w, const float* b, float* y,
                    std::size_t batch, float* workspace, std::size_t workspace_size) {
  check_workspace("conv2d_forward", conv2d_workspace_per_sample(g), workspace_size);
  const Dims d = dims_of(g);
  const std::size_t chunk = chunk_samples(g, batch, workspace_size);
  for (std::size_t n0 = 0; n0 < batch; n0 += chunk) {
    const unsigned samples = unsigned(batch - n0 < chunk ? batch - n0 : chunk);
    const std::size_t columns = std::size_t(samples) * g.out_pixels();
    float* cols = workspace;
    float* yt = workspace + g.patch_size() * columns;
    im2col_chunk<<<detail::blocks_for(g.patch_size() * columns), detail::threads_per_block>>>(
        d, x + n0 * g.input_size(), cols, samples);
    detail::check_launch("im2col");
    // (F, CKK) x (CKK, n*OHW) => (F, n*OHW)
    gemm(false, false, g.filters, columns, g.patch_size(), 1.0f, w, g.patch_size(), cols, columns,
         0.0f, yt, columns);
    unpack_add_bias<<<detail::blocks_for(samples * g.output_size()), detail::threads_per_block>>>(
        d, yt, b, y + n0 * g.output_size(), samples);
    detail::check_launch("conv2d bias");
  }
}

void conv2d_backward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                     float* dx, float* dw, float* db, std::size_t batch, float* workspace,
                     std::size_t workspace_size) {
  check_workspace("conv2d_backward", conv2d_workspace_per_sample(g), workspace_size);
  const Dims d = dims_of(g);
  if (batch == 0) {
    fill_zero(dw, g.filters * g.patch_size() * sizeof(float));
    fill_zero(db, g.filters * sizeof(float));
    return;
  }
  launch_channel_sums(dy, db, batch, g.filters, g.out_pixels(), "conv2d bias gradient");
  const std::size_t chunk = chunk_samples(g, batch, workspace_size);
  for (std::size_t n0 = 0; n0 < batch; n0 += chunk) {
    const unsigned samples = unsigned(batch - n0 < chunk ? batch - n0 : chunk);
    const std::size_t columns = std::size_t(samples) * g.out_pixels();
    float* cols = workspace;
    float* dyt = workspace + g.patch_size() * columns;
    pack<<<detail::blocks_for(samples * g.output_size()), detail::threads_per_block>>>(
        d, dy + n0 * g.output_size(), dyt, samples);
    detail::check_launch("conv2d pack");
    im2col_chunk<<<detail::blocks_for(g.patch_size() * columns), detail::threads_per_block>>>(
        d, x + n0 * g.input_size(), cols, samples);
    detail::check_launch("im2col");
    // dW (F, CKK) (+)= dY' (F, n*OHW) x cols^T (n*OHW, CKK)
    gemm(false, true, g.filters, g.patch_size(), columns, 1.0f, dyt, columns, cols, columns,
         n0 == 0 ? 0.0f : 1.0f, dw, g.patch_size());
    if (dx) {
      // dcols (CKK, n*OHW) = W^T (CKK, F) x dY' (F, n*OHW); cols is free again
      gemm(true, false, g.patch_size(), columns, g.filters, 1.0f, w, g.patch_size(), dyt, columns,
           0.0f, cols, columns);
      col2im_chunk<<<detail::blocks_for(samples * g.input_size()), detail::threads_per_block>>>(
          d, cols, dx + n0 * g.input_size(), samples);
      detail::check_launch("col2im");
    }
  }
}

void dense_forward(const float* x, const float* w, const float* b, float* y, std::size_t batch,
                   std::size_t in, std::size_t out) {
  if (batch == 0) return;
  // (B, In) x (Out, In)^T => (B, Out)
  gemm(false, true, batch, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  add_row_bias<<<detail::blocks_for(batch * out), detail::threads_per_block>>>(y, b, batch, out);
  detail::check_launch("dense bias");
}

void dense_backward(const float* x, const float* w, const float* dy, float* dx, float* dw,
                    float* db, std::size_t batch, std::size_t in, std::size_t out) {
  // dW (Out, In) = dy^T (Out, B) x x (B, In)
  gemm(true, false, out, in, batch, 1.0f, dy, out, x, in, 0.0f, dw, in);
  // db[o] = sum over the batch of dy (B, Out, 1)
  launch_channel_sums(dy, db, batch, out, 1, "dense bias gradient");
  // dx (B, In) = dy (B, Out) x W (Out, In)
  if (dx) gemm(false, false, batch, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
}

}  // namespace ctnn::kernels::cuda
