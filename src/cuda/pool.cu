// Pooling on the device. Forward: one thread per output. Backward gathers: one thread per input
// value sums the outputs whose windows cover it (max pooling: those whose recorded winner it
// is), so overlapping windows need no atomics and the input gradient is fully overwritten.
// Index arithmetic is 32-bit when the tensor allows it (divisions are much cheaper), else 64-bit.
#include "common.cuh"
#include "ctnn/kernels/cuda/kernels.hpp"

namespace ctnn::kernels::cuda {

namespace {

template <class I>
struct Dims {
  I c, h, w, window, stride, oh, ow;
};

template <class I>
Dims<I> dims_of(const PoolGeometry& g) {
  return {I(g.channels), I(g.height), I(g.width), I(g.window), I(g.stride), I(g.out_height),
          I(g.out_width)};
}

// Output rows (or columns) whose window covers input row i: [first, last).
template <class I>
__device__ inline void covering(I i, I window, I stride, I outputs, I& first, I& last) {
  first = i + 1 > window ? (i + 1 - window + stride - 1) / stride : 0;
  last = i / stride + 1;
  if (last > outputs) last = outputs;
}

template <class I>
__global__ void maxpool_forward_kernel(Dims<I> d, const float* __restrict__ x, float* __restrict__ y,
                                       std::uint32_t* __restrict__ argmax, I total) {
  for (I o = blockIdx.x * I(blockDim.x) + threadIdx.x; o < total; o += I(gridDim.x) * blockDim.x) {
    const I ox = o % d.ow, oy = (o / d.ow) % d.oh, nc = o / (d.ow * d.oh);
    const I c = nc % d.c, n = nc / d.c;
    const float* xs = x + std::size_t(n) * d.c * d.h * d.w;
    I best = (c * d.h + oy * d.stride) * d.w + ox * d.stride;
    float best_value = xs[best];
    for (I ky = 0; ky < d.window; ++ky)
      for (I kx = 0; kx < d.window; ++kx) {
        const I i = (c * d.h + oy * d.stride + ky) * d.w + ox * d.stride + kx;
        const float v = xs[i];
        if (v > best_value || (v != v && best_value == best_value)) best = i, best_value = v;  // NaN wins, as on the CPU
      }
    y[o] = best_value;
    argmax[o] = std::uint32_t(best);
  }
}

template <class I>
__global__ void maxpool_backward_kernel(Dims<I> d, const float* __restrict__ dy,
                                        const std::uint32_t* __restrict__ argmax,
                                        float* __restrict__ dx, I total) {
  for (I e = blockIdx.x * I(blockDim.x) + threadIdx.x; e < total; e += I(gridDim.x) * blockDim.x) {
    const I ix = e % d.w, iy = (e / d.w) % d.h, nc = e / (d.w * d.h);
    const I c = nc % d.c;
    const std::uint32_t self = std::uint32_t((c * d.h + iy) * d.w + ix);
    I y0, y1, x0, x1;
    covering(iy, d.window, d.stride, d.oh, y0, y1);
    covering(ix, d.window, d.stride, d.ow, x0, x1);
    float sum = 0.0f;
    const I base = nc * d.oh * d.ow;
    for (I oy = y0; oy < y1; ++oy)
      for (I ox = x0; ox < x1; ++ox) {
        const I o = base + oy * d.ow + ox;
        if (argmax[o] == self) sum += dy[o];
      }
    dx[e] = sum;
  }
}

template <class I>
__global__ void avgpool_forward_kernel(Dims<I> d, const float* __restrict__ x, float* __restrict__ y,
                                       I total) {
  const float scale = 1.0f / float(d.window * d.window);
  for (I o = blockIdx.x * I(blockDim.x) + threadIdx.x; o < total; o += I(gridDim.x) * blockDim.x) {
    const I ox = o % d.ow, oy = (o / d.ow) % d.oh, nc = o / (d.ow * d.oh);
    const float* xs = x + std::size_t(nc) * d.h * d.w;
    float sum = 0.0f;
    for (I ky = 0; ky < d.window; ++ky)
      for (I kx = 0; kx < d.window; ++kx) sum += xs[(oy * d.stride + ky) * d.w + ox * d.stride + kx];
    y[o] = sum * scale;
  }
}

template <class I>
__global__ void avgpool_backward_kernel(Dims<I> d, const float* __restrict__ dy,
                                        float* __restrict__ dx, I total) {
  const float scale = 1.0f / float(d.window * d.window);
  for (I e = blockIdx.x * I(blockDim.x) + threadIdx.x; e < total; e += I(gridDim.x) * blockDim.x) {
    const I ix = e % d.w, iy = (e / d.w) % d.h, nc = e / (d.w * d.h);
    I y0, y1, x0, x1;
    covering(iy, d.window, d.stride, d.oh, y0, y1);
    covering(ix, d.window, d.stride, d.ow, x0, x1);
    float sum = 0.0f;
    const float* dys = dy + std::size_t(nc) * d.oh * d.ow;
    for (I oy = y0; oy < y1; ++oy)
      for (I ox = x0; ox < x1; ++ox) sum += dys[oy * d.ow + ox] * scale;
    dx[e] = sum;
  }
}

// A block per (sample, channel) row (blocks stride over the rows): y = mean of its P pixels,
// fixed-order block reduction.
__global__ void __launch_bounds__(128)
global_avgpool_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                              std::size_t rows, std::size_t pixels) {
  for (std::size_t r = blockIdx.x; r < rows; r += gridDim.x) {  // block-uniform loop
    const float* row = x + r * pixels;
    float sum = 0.0f;
    for (std::size_t p = threadIdx.x; p < pixels; p += blockDim.x) sum += row[p];
    sum = detail::block_sum(sum);
    if (threadIdx.x == 0) y[r] = sum / float(pixels);
  }
}

template <class I>
__global__ void global_avgpool_backward_kernel(const float* __restrict__ dy,
                                               float* __restrict__ dx, I total, I pixels) {
  const float inv = 1.0f / float(pixels);
  for (I e = blockIdx.x * I(blockDim.x) + threadIdx.x; e < total; e += I(gridDim.x) * blockDim.x)
    dx[e] = dy[e / pixels] * inv;
}

constexpr std::size_t small = 0xffffffffu - 2u * 65536u * 256u;  // room for the grid stride

}  // namespace

void maxpool_forward(const PoolGeometry& g, const float* x, float* y, std::uint32_t* argmax,
                     std::size_t batch) {
  const std::size_t total = batch * g.output_size();
  if (total == 0) return;
  if (total <= small)
    maxpool_forward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<unsigned>(g), x, y, argmax, unsigned(total));
  else
    maxpool_forward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<std::size_t>(g), x, y, argmax, total);
  detail::check_launch("maxpool_forward");
}

void maxpool_backward(const PoolGeometry& g, const float* dy, const std::uint32_t* argmax,
                      float* dx, std::size_t batch) {
  const std::size_t total = batch * g.input_size();
  if (total == 0) return;
  if (total <= small)
    maxpool_backward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<unsigned>(g), dy, argmax, dx, unsigned(total));
  else
    maxpool_backward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<std::size_t>(g), dy, argmax, dx, total);
  detail::check_launch("maxpool_backward");
}

void avgpool_forward(const PoolGeometry& g, const float* x, float* y, std::size_t batch) {
  const std::size_t total = batch * g.output_size();
  if (total == 0) return;
  if (total <= small)
    avgpool_forward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<unsigned>(g), x, y, unsigned(total));
  else
    avgpool_forward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<std::size_t>(g), x, y, total);
  detail::check_launch("avgpool_forward");
}

void avgpool_backward(const PoolGeometry& g, const float* dy, float* dx, std::size_t batch) {
  const std::size_t total = batch * g.input_size();
  if (total == 0) return;
  if (total <= small)
    avgpool_backward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<unsigned>(g), dy, dx, unsigned(total));
  else
    avgpool_backward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dims_of<std::size_t>(g), dy, dx, total);
  detail::check_launch("avgpool_backward");
}

void global_avgpool_forward(const float* x, float* y, std::size_t batch, std::size_t channels,
                            std::size_t pixels) {
  const std::size_t rows = batch * channels;
  if (rows == 0) return;
  global_avgpool_forward_kernel<<<unsigned(rows < 65536 ? rows : 65536), 128>>>(x, y, rows, pixels);
  detail::check_launch("global_avgpool_forward");
}

void global_avgpool_backward(const float* dy, float* dx, std::size_t batch, std::size_t channels,
                             std::size_t pixels) {
  const std::size_t total = batch * channels * pixels;
  if (total == 0) return;
  if (total <= small)
    global_avgpool_backward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dy, dx, unsigned(total), unsigned(pixels));
  else
    global_avgpool_backward_kernel<<<detail::blocks_for(total), detail::threads_per_block>>>(
        dy, dx, total, pixels);
  detail::check_launch("global_avgpool_backward");
}

}  // namespace ctnn::kernels::cuda
