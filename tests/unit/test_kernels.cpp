// The fast CPU kernels (kernels/cpu/) against the scalar reference kernels (the specification):
// convolution forward and both backward passes, max/average/global pooling, activations,
// elementwise ops and the optimizer updates, over odd sizes (not multiples of the SIMD width),
// strides, paddings, batch sizes, float and double, one and two threads; plus NaN handling,
// max-pooling ties, and run-to-run determinism at a fixed thread count.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/kernels/cpu/batch_norm.hpp"
#include "ctnn/kernels/cpu/conv.hpp"
#include "ctnn/kernels/cpu/elementwise.hpp"
#include "ctnn/kernels/cpu/optimizer.hpp"
#include "ctnn/kernels/cpu/pool.hpp"
#include "ctnn/kernels/reference/batch_norm.hpp"
#include "ctnn/kernels/reference/conv.hpp"
#include "ctnn/kernels/reference/elementwise.hpp"
#include "ctnn/kernels/reference/optimizer.hpp"
#include "ctnn/kernels/reference/pool.hpp"
#include "ctnn/random.hpp"

#if CTNN_HAS_OPENMP
#include <omp.h>
#endif

namespace kernels = ctnn::kernels;
using kernels::ConvGeometry;
using kernels::PoolGeometry;

namespace {

// Runs body once per thread count (1 and 2 when OpenMP is on), restoring the default after.
template <class F>
void for_thread_counts(F&& body) {
#if CTNN_HAS_OPENMP
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    body(threads);
  }
  omp_set_num_threads(saved);
#else
  body(1);
#endif
}

template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  ctnn::Rng rng(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = T(rng.uniform(lo, hi));
  return v;
}

template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 2e-5 : 1e-12;
}

// max |a - b| / (1 + max |b|) <= tolerance
template <class T>
void require_close(const std::vector<T>& a, const std::vector<T>& b, double tol, const std::string& what) {
  INFO(what);
  REQUIRE(a.size() == b.size());
  double scale = 1, worst = 0;
  for (std::size_t i = 0; i < b.size(); ++i) scale = std::max(scale, std::abs(double(b[i])));
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  INFO("worst difference " << worst << ", scale " << scale);
  REQUIRE(worst / scale <= tol);
}

template <ConvGeometry G, class T>
void check_conv(std::size_t batch) {
  const auto x = random_values<T>(batch * G.input_size(), 1 + batch);
  const auto w = random_values<T>(G.filters * G.patch_size(), 2);
  const auto b = random_values<T>(G.filters, 3);
  const auto dy = random_values<T>(batch * G.output_size(), 4 + batch);
  std::vector<T> y_ref(batch * G.output_size()), dx_ref(batch * G.input_size());
  std::vector<T> dw_ref(w.size()), db_ref(b.size());
  kernels::reference::conv2d_forward<G>(x.data(), w.data(), b.data(), y_ref.data(), batch);
  kernels::reference::conv2d_backward<G>(x.data(), w.data(), dy.data(), dx_ref.data(), dw_ref.data(),
                                         db_ref.data(), batch);
  const double tol = tolerance<T>() * double(G.patch_size() + batch * G.out_pixels()) / 16;
  for_thread_counts([&](int threads) {
    INFO("threads " << threads << ", batch " << batch << ", C" << G.channels << " " << G.height
                    << "x" << G.width << " F" << G.filters << " K" << G.kernel << " S" << G.stride
                    << " P" << G.padding << ", band rows " << kernels::cpu::conv_plan<G>::rows
                    << ", Winograd " << (kernels::cpu::winograd_applies<G, T>));
    kernels::cpu::conv_workspace<T> ws;
    std::vector<T> y(y_ref.size(), T(7)), dx(dx_ref.size(), T(7)), dw(dw_ref.size(), T(7)),
        db(db_ref.size(), T(7));
    kernels::cpu::conv2d_forward<G>(x.data(), w.data(), b.data(), y.data(), batch, ws);
    require_close(y, y_ref, tol, "forward");
    std::vector<T> y_relu(y.size()), relu_ref(y.size());
    kernels::cpu::conv2d_forward<G, true>(x.data(), w.data(), b.data(), y_relu.data(), batch, ws);
    kernels::reference::relu_forward(y.data(), relu_ref.data(), y.size());
    REQUIRE(y_relu == relu_ref);  // the same convolution, then max(., 0)
    kernels::cpu::conv2d_backward<G>(x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(),
                                     batch, ws);
    require_close(dx, dx_ref, tol, "dx");
    require_close(dw, dw_ref, tol, "dw");
    require_close(db, db_ref, tol, "db");
    // Without dx (the first layer): the same weight gradients.
    std::vector<T> dw2(dw.size()), db2(db.size());
    kernels::cpu::conv2d_backward<G>(x.data(), w.data(), dy.data(), static_cast<T*>(nullptr), dw2.data(), db2.data(),
                                     batch, ws);
    REQUIRE(dw2 == dw);
    REQUIRE(db2 == db);
  });
}

template <ConvGeometry G>
void check_conv_all() {
  for (std::size_t batch : {0, 1, 3, 5}) {
    check_conv<G, double>(batch);
    check_conv<G, float>(batch);
  }
}

template <PoolGeometry G, class T>
void check_pool(std::size_t batch, bool ties) {
  auto x = random_values<T>(batch * G.input_size(), 10 + batch);
  if (ties)
    for (auto& v : x) v = T(std::round(double(v) * 2));  // five distinct values: many ties
  const auto dy = random_values<T>(batch * G.output_size(), 11 + batch);
  std::vector<T> y_ref(batch * G.output_size()), dx_ref(batch * G.input_size());
  std::vector<std::uint32_t> argmax(y_ref.size());
  kernels::reference::maxpool_forward<G>(x.data(), y_ref.data(), argmax.data(), batch);
  kernels::reference::maxpool_backward<G>(dy.data(), argmax.data(), dx_ref.data(), batch);
  std::vector<T> a_ref(y_ref.size()), da_ref(dx_ref.size());
  kernels::reference::avgpool_forward<G>(x.data(), a_ref.data(), batch);
  kernels::reference::avgpool_backward<G>(dy.data(), da_ref.data(), batch);
  for_thread_counts([&](int threads) {
    INFO("threads " << threads << ", batch " << batch << ", window " << G.window << " stride "
                    << G.stride << ", " << G.height << "x" << G.width << ", ties " << ties);
    std::vector<T> y(y_ref.size(), T(7)), dx(dx_ref.size(), T(7));
    std::vector<std::uint32_t> winners(argmax.size(), 12345);
    kernels::cpu::maxpool_forward<G>(x.data(), y.data(), winners.data(), batch);
    REQUIRE(y == y_ref);
    REQUIRE(winners == argmax);
    std::vector<T> values(y_ref.size(), T(7));  // inference: no winners recorded
    kernels::cpu::maxpool_forward<G>(x.data(), values.data(), static_cast<std::uint32_t*>(nullptr), batch);
    REQUIRE(values == y_ref);
    kernels::cpu::maxpool_backward<G>(dy.data(), winners.data(), dx.data(), batch);
    REQUIRE(dx == dx_ref);  // the same winners, added in the same order
    // through a Relu before the pooling: the reference's two passes in one
    std::vector<T> through(dx.size(), T(7)), through_ref(dx.size());
    kernels::reference::relu_backward(x.data(), dx_ref.data(), through_ref.data(), dx.size());
    kernels::cpu::maxpool_backward_through_relu<G>(dy.data(), winners.data(), y.data(), through.data(), batch);
    REQUIRE(through == through_ref);
    std::vector<T> a(a_ref.size(), T(7)), da(da_ref.size(), T(7));
    kernels::cpu::avgpool_forward<G>(x.data(), a.data(), batch);
    REQUIRE(a == a_ref);
    kernels::cpu::avgpool_backward<G>(dy.data(), da.data(), batch);
    require_close(da, da_ref, tolerance<T>(), "avgpool backward");
  });
}

template <PoolGeometry G>
void check_pool_all() {
  for (std::size_t batch : {0, 1, 2, 7})
    for (bool ties : {false, true}) {
      check_pool<G, double>(batch, ties);
      check_pool<G, float>(batch, ties);
    }
}

constexpr PoolGeometry pool(std::size_t c, std::size_t h, std::size_t w, std::size_t window,
                            std::size_t stride) {
  return {c, h, w, window, stride, (h - window) / stride + 1, (w - window) / stride + 1};
}

constexpr ConvGeometry conv(std::size_t c, std::size_t h, std::size_t w, std::size_t f,
                            std::size_t k, std::size_t s, std::size_t p) {
  return {c, h, w, f, k, s, p, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1};
}

}  // namespace

TEST_CASE("conv: fast kernels match the reference", "[kernels][conv]") {
  check_conv_all<conv(1, 7, 9, 3, 3, 1, 0)>();
  check_conv_all<conv(2, 11, 10, 5, 3, 2, 1)>();
  check_conv_all<conv(3, 9, 9, 4, 5, 1, 2)>();
  check_conv_all<conv(2, 8, 13, 7, 1, 1, 0)>();
  check_conv_all<conv(4, 10, 10, 6, 3, 3, 2)>();
  check_conv_all<conv(3, 6, 6, 2, 7, 1, 3)>();   // kernel larger than the image, padding fills it
}

TEST_CASE("conv: several bands per image, large enough to run on two threads", "[kernels][conv]") {
  constexpr ConvGeometry a = conv(16, 40, 40, 8, 3, 1, 1);
  constexpr ConvGeometry b = conv(32, 30, 61, 4, 3, 2, 1);
  STATIC_REQUIRE(kernels::cpu::conv_plan<a>::rows < a.out_height);
  STATIC_REQUIRE(a.out_height % kernels::cpu::conv_plan<a>::rows != 0);  // a shorter last band
  STATIC_REQUIRE(kernels::cpu::conv_plan<b>::rows < b.out_height);
  for (std::size_t batch : {1, 2, 3}) {
    check_conv<a, float>(batch);
    check_conv<a, double>(batch);
    check_conv<b, float>(batch);
  }
}

TEST_CASE("conv: Winograd F(2x2,3x3) matches the reference", "[kernels][conv][winograd]") {
  namespace cpu = kernels::cpu;
  // The im2col layers above stay im2col (too few channels or filters, or not 3x3 stride 1).
  STATIC_REQUIRE_FALSE(cpu::winograd_applies<conv(16, 40, 40, 8, 3, 1, 1), float>);
  STATIC_REQUIRE_FALSE(cpu::winograd_applies<conv(32, 30, 61, 4, 3, 2, 1), float>);
  STATIC_REQUIRE_FALSE(cpu::winograd_applies<conv(1, 28, 28, 32, 3, 1, 0), float>);
  // The Fashion-MNIST net's second layer (11x11 output: tiles overhang it), a band spanning
  // several samples.
  constexpr ConvGeometry fashion = conv(32, 13, 13, 64, 3, 1, 0);
  STATIC_REQUIRE(cpu::winograd_applies<fashion, float>);
  STATIC_REQUIRE(cpu::winograd_applies<fashion, double>);
  STATIC_REQUIRE(cpu::winograd_plan<fashion>::rows > cpu::winograd_plan<fashion>::tiles_high);
  // Odd channel and filter counts, even width and odd height; padding 2 and 3 (outputs larger
  // than the input, whole tiles in the padding).
  constexpr ConvGeometry odd = conv(17, 9, 14, 19, 3, 1, 1);
  constexpr ConvGeometry pad2 = conv(16, 6, 5, 16, 3, 1, 2);
  constexpr ConvGeometry pad3 = conv(16, 4, 4, 18, 3, 1, 3);
  // Wide rows: several bands per sample, a band crossing into the next sample, and a partial
  // vector of tiles at the end of each tile row.
  constexpr ConvGeometry wide = conv(16, 44, 61, 24, 3, 1, 1);
  using wide_plan = cpu::winograd_plan<wide>;
  STATIC_REQUIRE(wide_plan::rows < wide_plan::tiles_high);
  STATIC_REQUIRE(wide_plan::tiles_high % wide_plan::rows != 0);
  STATIC_REQUIRE(cpu::winograd_applies<odd, float>);
  STATIC_REQUIRE(cpu::winograd_applies<pad2, float>);
  STATIC_REQUIRE(cpu::winograd_applies<pad3, float>);
  STATIC_REQUIRE(cpu::winograd_applies<wide, float>);
  for (std::size_t batch : {0, 1, 2, 3, 5}) {
    check_conv<fashion, float>(batch);
    check_conv<fashion, double>(batch);
    check_conv<odd, float>(batch);
    check_conv<odd, double>(batch);
    check_conv<pad2, float>(batch);
    check_conv<pad3, double>(batch);
  }
  for (std::size_t batch : {1, 2, 3}) {
    check_conv<wide, float>(batch);
    check_conv<wide, double>(batch);
  }
  // Tiny images: one output pixel (a single tile, three quarters overhanging), a 1x1 image in
  // padding, a row narrower than one tile pair.
  for (std::size_t batch : {1, 4}) {
    check_conv<conv(16, 3, 3, 16, 3, 1, 0), float>(batch);
    check_conv<conv(16, 1, 1, 16, 3, 1, 1), float>(batch);
    check_conv<conv(16, 2, 3, 17, 3, 1, 1), double>(batch);
  }
}

namespace {
template <ConvGeometry g>
void check_conv_repeatable() {
  const std::size_t batch = 5;
  const auto x = random_values<float>(batch * g.input_size(), 1);
  const auto w = random_values<float>(g.filters * g.patch_size(), 2);
  const auto dy = random_values<float>(batch * g.output_size(), 3);
  for_thread_counts([&](int) {
    kernels::cpu::conv_workspace<float> ws;
    std::vector<float> dx1(x.size()), dw1(w.size()), db1(g.filters), dx2(x.size()), dw2(w.size()),
        db2(g.filters);
    kernels::cpu::conv2d_backward<g>(x.data(), w.data(), dy.data(), dx1.data(), dw1.data(), db1.data(), batch, ws);
    kernels::cpu::conv2d_backward<g>(x.data(), w.data(), dy.data(), dx2.data(), dw2.data(), db2.data(), batch, ws);
    REQUIRE(dx1 == dx2);
    REQUIRE(dw1 == dw2);
    REQUIRE(db1 == db2);
  });
}
}  // namespace

TEST_CASE("conv: the same bits on every run at a fixed thread count", "[kernels][conv]") {
  SECTION("im2col") { check_conv_repeatable<conv(16, 40, 40, 8, 3, 1, 1)>(); }
  SECTION("Winograd") { check_conv_repeatable<conv(16, 44, 61, 24, 3, 1, 1)>(); }
}

TEST_CASE("pooling: fast kernels match the reference", "[kernels][pool]") {
  check_pool_all<pool(3, 7, 9, 2, 2)>();    // odd sizes: a row and a column left over
  check_pool_all<pool(2, 9, 11, 3, 2)>();   // overlapping windows
  check_pool_all<pool(2, 10, 10, 3, 3)>();
  check_pool_all<pool(1, 5, 6, 1, 1)>();
  check_pool_all<pool(5, 13, 13, 2, 1)>();
  check_pool<pool(32, 26, 26, 2, 2), float>(9, true);  // the Fashion-MNIST layer, on two threads
  // 2x2/2 rows narrower than a vector: half-width vectors (float: 4-7 windows a row, double 2-3)
  check_pool_all<pool(3, 11, 11, 2, 2)>();  // the second Fashion-MNIST pooling: 5 windows
  check_pool_all<pool(2, 9, 15, 2, 2)>();   // 7 windows, an odd row and column left over
  check_pool_all<pool(2, 6, 5, 2, 2)>();    // 2 windows
  check_pool<pool(64, 11, 11, 2, 2), float>(9, true);
}

TEST_CASE("pooling: max pooling propagates NaN, the first NaN wins", "[kernels][pool]") {
  constexpr PoolGeometry g = pool(1, 4, 6, 2, 2);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(24, 1.0f), y(6), y_ref(6);
  x[7] = nan;                // window (0, 0): row 1, column 1
  x[3] = nan, x[8] = 5.0f;   // window (0, 1): the NaN at row 0 comes first
  x[16] = -0.0f;             // window (1, 2): ties between 1.0s and a larger value later
  x[23] = 2.0f;
  std::vector<std::uint32_t> winners(6), argmax(6);
  for_thread_counts([&](int) {
    kernels::cpu::maxpool_forward<g>(x.data(), y.data(), winners.data(), 1);
    kernels::reference::maxpool_forward<g>(x.data(), y_ref.data(), argmax.data(), 1);
    CHECK(std::isnan(y[0]));
    CHECK(std::isnan(y_ref[0]));
    CHECK(winners[0] == 7);
    CHECK(std::isnan(y[1]));
    CHECK(winners[1] == 3);
    CHECK(y[5] == 2.0f);
    CHECK(winners == argmax);
    std::vector<float> values(6);
    kernels::cpu::maxpool_forward<g>(x.data(), values.data(), static_cast<std::uint32_t*>(nullptr), 1);
    CHECK(std::isnan(values[0]));
    CHECK(std::isnan(values[1]));
    CHECK(values[5] == 2.0f);
  });
}

TEMPLATE_TEST_CASE("pooling: NaN and ties in the vectorized 2x2 kernel, as the reference",
                   "[kernels][pool]", float, double) {
  using T = TestType;
  constexpr PoolGeometry g = pool(3, 6, 41, 2, 2);  // 20 outputs a row: whole vectors and a tail
  auto x = random_values<T>(g.input_size() * 2, 9);
  for (auto& v : x) v = T(std::round(double(v) * 2));  // ties everywhere
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (std::size_t i = 0; i < x.size(); i += 7) x[i] = nan;  // NaNs at every window position
  std::vector<T> y(g.output_size() * 2), y_ref(y.size()), values(y.size());
  std::vector<std::uint32_t> winners(y.size()), argmax(y.size());
  kernels::reference::maxpool_forward<g>(x.data(), y_ref.data(), argmax.data(), 2);
  for_thread_counts([&](int) {
    kernels::cpu::maxpool_forward<g>(x.data(), y.data(), winners.data(), 2);
    kernels::cpu::maxpool_forward<g>(x.data(), values.data(), static_cast<std::uint32_t*>(nullptr), 2);
    REQUIRE(winners == argmax);
    for (std::size_t i = 0; i < y.size(); ++i) {
      INFO("output " << i);
      REQUIRE(std::isnan(y[i]) == std::isnan(y_ref[i]));
      REQUIRE(std::isnan(values[i]) == std::isnan(y_ref[i]));
      if (!std::isnan(y_ref[i])) REQUIRE((y[i] == y_ref[i] && values[i] == y_ref[i]));
    }
  });
}

TEST_CASE("global average pooling matches the reference", "[kernels][pool]") {
  for (std::size_t pixels : {1, 7, 33, 2304}) {
    const std::size_t batch = 3, channels = 37;
    const auto x = random_values<float>(batch * channels * pixels, pixels);
    const auto dy = random_values<float>(batch * channels, 2);
    std::vector<float> y(batch * channels), y_ref(y.size()), dx(x.size()), dx_ref(x.size());
    kernels::reference::global_avgpool_forward(x.data(), y_ref.data(), batch, channels, pixels);
    kernels::reference::global_avgpool_backward(dy.data(), dx_ref.data(), batch, channels, pixels);
    for_thread_counts([&](int) {
      kernels::cpu::global_avgpool_forward(x.data(), y.data(), batch, channels, pixels);
      kernels::cpu::global_avgpool_backward(dy.data(), dx.data(), batch, channels, pixels);
      require_close(y, y_ref, 1e-6, "forward");
      REQUIRE(dx == dx_ref);
    });
  }
}

TEMPLATE_TEST_CASE("batch norm: fast kernels match the reference", "[kernels][batch_norm]", float,
                   double) {
  using T = TestType;
  const kernels::reference::BatchNormSettings settings{1e-5, 0.1};
  for (std::size_t pixels : {1, 7, 33, 121}) {
    for (std::size_t batch : {1, 3, 5}) {
      const std::size_t channels = 6, n = batch * channels * pixels;
      INFO("pixels " << pixels << ", batch " << batch);
      auto x = random_values<T>(n, pixels + batch, -2.0, 3.0);
      const auto dy = random_values<T>(n, 2 * pixels + batch);
      const auto gamma = random_values<T>(channels, 3, 0.5, 1.5), beta = random_values<T>(channels, 4);
      std::vector<T> y_ref(n), mean_ref(channels), is_ref(channels), rm_ref(channels, T(0.2)),
          rv_ref(channels, T(1.5)), dx_ref(n), dg_ref(channels), db_ref(channels), yi_ref(n);
      kernels::reference::batch_norm_forward_train(x.data(), gamma.data(), beta.data(), y_ref.data(),
                                                   mean_ref.data(), is_ref.data(), rm_ref.data(),
                                                   rv_ref.data(), batch, channels, pixels, settings);
      kernels::reference::batch_norm_backward(x.data(), gamma.data(), mean_ref.data(), is_ref.data(),
                                              dy.data(), dx_ref.data(), dg_ref.data(), db_ref.data(),
                                              batch, channels, pixels);
      kernels::reference::batch_norm_forward_inference(x.data(), gamma.data(), beta.data(), yi_ref.data(),
                                                       rm_ref.data(), rv_ref.data(), batch, channels,
                                                       pixels, settings);
      for_thread_counts([&](int) {
        std::vector<T> y(n), mean(channels), is(channels), rm(channels, T(0.2)), rv(channels, T(1.5)),
            dx(n), dg(channels), db(channels), yi(n);
        kernels::cpu::batch_norm_forward_train(x.data(), gamma.data(), beta.data(), y.data(), mean.data(),
                                               is.data(), rm.data(), rv.data(), batch, channels, pixels,
                                               settings);
        const double tol = std::is_same_v<T, float> ? 5e-5 : 1e-11;
        require_close(y, y_ref, tol, "y");
        require_close(mean, mean_ref, tol, "mean");
        require_close(is, is_ref, tol, "inv_std");
        require_close(rm, rm_ref, tol, "running mean");
        require_close(rv, rv_ref, tol, "running var");
        kernels::cpu::batch_norm_backward(x.data(), gamma.data(), mean_ref.data(), is_ref.data(), dy.data(),
                                          dx.data(), dg.data(), db.data(), batch, channels, pixels);
        require_close(dx, dx_ref, tol, "dx");
        require_close(dg, dg_ref, tol, "dgamma");
        require_close(db, db_ref, tol, "dbeta");
        kernels::cpu::batch_norm_forward_inference(x.data(), gamma.data(), beta.data(), yi.data(),
                                                   rm_ref.data(), rv_ref.data(), batch, channels, pixels,
                                                   settings);
        require_close(yi, yi_ref, tol, "inference");
      });
    }
  }
}

TEMPLATE_TEST_CASE("elementwise kernels match the reference", "[kernels][elementwise]", float, double) {
  using T = TestType;
  for (std::size_t n : {0, 1, 3, 17, 31, 1000, 300001}) {
    INFO("n = " << n);
    auto x = random_values<T>(n, 1 + n);
    if (n > 3) x[2] = T(0), x[3] = -T(0);
    const auto other = random_values<T>(n, 2 + n);
    for_thread_counts([&](int) {
      std::vector<T> got(n, T(7)), want(n, T(9));
      kernels::cpu::relu_forward(x.data(), got.data(), n);
      kernels::reference::relu_forward(x.data(), want.data(), n);
      REQUIRE(got == want);
      kernels::cpu::relu_backward(x.data(), other.data(), got.data(), n);
      kernels::reference::relu_backward(x.data(), other.data(), want.data(), n);
      REQUIRE(got == want);
      kernels::cpu::leaky_relu_forward(x.data(), got.data(), n, T(0.01));
      kernels::reference::leaky_relu_forward(x.data(), want.data(), n, T(0.01));
      REQUIRE(got == want);
      kernels::cpu::leaky_relu_backward(x.data(), other.data(), got.data(), n, T(0.2));
      kernels::reference::leaky_relu_backward(x.data(), other.data(), want.data(), n, T(0.2));
      REQUIRE(got == want);
      kernels::cpu::multiply(x.data(), other.data(), got.data(), n);
      kernels::reference::multiply(x.data(), other.data(), want.data(), n);
      REQUIRE(got == want);
      got = other, want = other;
      kernels::cpu::add_to(x.data(), got.data(), n);
      kernels::reference::add_to(x.data(), want.data(), n);
      REQUIRE(got == want);
      double sum = 0;
      for (T v : x) sum += double(v);
      REQUIRE(double(kernels::cpu::sum(x.data(), n)) == Approx(sum).margin(tolerance<T>() * double(n + 1)));
    });
  }
}

TEST_CASE("relu keeps NaN, like PyTorch", "[kernels][elementwise]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(19, -1.0f), y(19), y_ref(19);
  x[0] = nan, x[17] = nan, x[5] = 2.0f;
  kernels::cpu::relu_forward(x.data(), y.data(), x.size());
  kernels::reference::relu_forward(x.data(), y_ref.data(), x.size());
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[17]));
  CHECK(std::isnan(y_ref[0]));
  CHECK(y[5] == 2.0f);
  CHECK(y[1] == 0.0f);
}

TEMPLATE_TEST_CASE("optimizer updates match the reference", "[kernels][optimizer]", float, double) {
  using T = TestType;
  for (std::size_t n : {1, 13, 1003, 300007}) {
    INFO("n = " << n);
    const auto w0 = random_values<T>(n, 1);
    for_thread_counts([&](int) {
      auto w = w0, w_ref = w0;
      std::vector<T> m(n), v(n), m_ref(n), v_ref(n), s(n), b(n), s_ref(n), b_ref(n);
      auto w2 = w0, w2_ref = w0;
      for (int step = 1; step <= 3; ++step) {
        const auto g = random_values<T>(n, 100 + step);
        const kernels::reference::AdamCoefficients<T> c{T(-1e-3 / (1 - std::pow(0.9, step))),
                                                        T(std::sqrt(1 - std::pow(0.999, step))),
                                                        T(0.9), T(0.1), T(0.999), T(0.001), T(1e-8)};
        kernels::cpu::adam_update(w.data(), g.data(), m.data(), v.data(), n, c);
        kernels::reference::adam_update(w_ref.data(), g.data(), m_ref.data(), v_ref.data(), n, c);
        const kernels::reference::RmsPropCoefficients<T> r{T(0.99), T(0.01), T(1e-8), T(-1e-2), T(0.9)};
        kernels::cpu::rmsprop_update(w2.data(), g.data(), s.data(), b.data(), n, r);
        kernels::reference::rmsprop_update(w2_ref.data(), g.data(), s_ref.data(), b_ref.data(), n, r);
      }
      require_close(w, w_ref, tolerance<T>() / 8, "adam w");
      require_close(m, m_ref, tolerance<T>() / 8, "adam m");
      require_close(v, v_ref, tolerance<T>() / 8, "adam v");
      require_close(w2, w2_ref, tolerance<T>() / 8, "rmsprop w");
      require_close(b, b_ref, tolerance<T>() / 8, "rmsprop momentum");
    });
  }
}
