// cpu::gemm against the reference GEMM (the specification): odd sizes around the register and
// cache blocks, all four transpose combinations, leading dimensions wider than the matrices,
// alpha/beta combinations (beta == 0 must ignore NaN in C), float and double, every
// instruction set this translation unit can run, one and several threads, and no heap
// allocation once the workspace has grown.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/kernels/cpu/gemm.hpp"
#include "ctnn/kernels/reference/gemm.hpp"
#include "ctnn/random.hpp"

#if CTNN_HAS_OPENMP
#include <omp.h>
#endif

// Counting allocator for the steady-state test (only counts while `counting` is set). Every
// replaceable form is replaced, nothrow ones included, so that new and delete always pair up
// (AddressSanitizer checks it). GCC's -Wmismatched-new-delete does not know that these
// replacements allocate with malloc, hence the pragma.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
void* counted_alloc(std::size_t size, std::size_t align) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (size == 0) size = 1;
  return align > alignof(std::max_align_t)
             ? std::aligned_alloc(align, (size + align - 1) / align * align)
             : std::malloc(size);
}
void* counted_or_throw(std::size_t size, std::size_t align) {
  void* p = counted_alloc(size, align);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace
void* operator new(std::size_t size) { return counted_or_throw(size, 0); }
void* operator new[](std::size_t size) { return counted_or_throw(size, 0); }
void* operator new(std::size_t size, std::align_val_t al) {
  return counted_or_throw(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al) {
  return counted_or_throw(size, static_cast<std::size_t>(al));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_alloc(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_alloc(size, 0);
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(al));
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

namespace cpu = ctnn::kernels::cpu;
namespace ref = ctnn::kernels::reference;

struct Case {
  bool ta, tb;
  std::size_t m, n, k;
  double alpha, beta;
};

std::string describe(const Case& c) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "ta=%d tb=%d m=%zu n=%zu k=%zu alpha=%g beta=%g", c.ta, c.tb, c.m,
                c.n, c.k, c.alpha, c.beta);
  return buf;
}

template <class T>
struct Problem {
  std::size_t lda, ldb, ldc;
  std::vector<T> a, b, c;
};

// Operands with leading dimensions wider than the stored width; C is NaN when beta == 0 and
// its padding columns hold a sentinel that must survive.
template <class T>
Problem<T> make_problem(const Case& c, std::uint64_t seed) {
  ctnn::Rng rng(seed);
  Problem<T> p;
  const std::size_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const std::size_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  p.lda = a_cols + 3;
  p.ldb = b_cols + 5;
  p.ldc = c.n + 7;
  p.a.assign(std::max<std::size_t>(1, a_rows * p.lda), T(0));
  p.b.assign(std::max<std::size_t>(1, b_rows * p.ldb), T(0));
  p.c.assign(std::max<std::size_t>(1, c.m * p.ldc), T(0));
  for (auto& v : p.a) v = static_cast<T>(rng.uniform(-1, 1));
  for (auto& v : p.b) v = static_cast<T>(rng.uniform(-1, 1));
  for (std::size_t i = 0; i < c.m; ++i)
    for (std::size_t j = 0; j < p.ldc; ++j)
      p.c[i * p.ldc + j] = j >= c.n        ? T(12345)
                           : c.beta == 0.0 ? std::numeric_limits<T>::quiet_NaN()
                                           : static_cast<T>(rng.uniform(-1, 1));
  return p;
}

template <class Arch, class T>
void run_cpu(const Case& c, Problem<T>& p) {
  cpu::gemm_for_arch<Arch>(c.ta, c.tb, c.m, c.n, c.k, T(c.alpha), p.a.data(), p.lda, p.b.data(),
                           p.ldb, T(c.beta), p.c.data(), p.ldc);
}

// Compares with the reference: |C - C_ref| <= 8 eps (k + 2) (|alpha| (|A||B|)_ij + |beta C_ij|),
// the forward error bound of a length-k dot product with a margin; the padding of C must be
// untouched and nothing may be NaN.
template <class Arch, class T>
void check_case(const Case& c, std::uint64_t seed) {
  INFO(describe(c) << " arch=" << Arch::name() << " T=" << (sizeof(T) == 4 ? "float" : "double"));
  Problem<T> fast = make_problem<T>(c, seed);
  Problem<T> slow = fast;
  Problem<T> bound = fast;
  for (auto& v : bound.a) v = std::abs(v);
  for (auto& v : bound.b) v = std::abs(v);
  for (auto& v : bound.c) v = std::isnan(v) ? T(0) : std::abs(v);

  run_cpu<Arch>(c, fast);
  ref::gemm(c.ta, c.tb, c.m, c.n, c.k, T(c.alpha), slow.a.data(), slow.lda, slow.b.data(), slow.ldb,
            T(c.beta), slow.c.data(), slow.ldc);
  ref::gemm(c.ta, c.tb, c.m, c.n, c.k, T(std::abs(c.alpha)), bound.a.data(), bound.lda,
            bound.b.data(), bound.ldb, T(std::abs(c.beta)), bound.c.data(), bound.ldc);

  const double eps = std::numeric_limits<T>::epsilon();
  std::size_t bad = 0;
  double worst = 0;
  for (std::size_t i = 0; i < c.m; ++i) {
    for (std::size_t j = 0; j < fast.ldc; ++j) {
      const std::size_t at = i * fast.ldc + j;
      if (j >= c.n) {
        bad += fast.c[at] != T(12345);
        continue;
      }
      const double err = std::abs(double(fast.c[at]) - double(slow.c[at]));
      const double tol = 8 * eps * double(c.k + 2) * double(bound.c[at]) + 1e-30;
      if (!(err <= tol)) ++bad;  // also catches NaN
      worst = std::max(worst, err / tol);
    }
  }
  INFO("elements out of tolerance: " << bad << ", worst error / tolerance: " << worst);
  CHECK(bad == 0);
}

const std::size_t odd_sizes[] = {1, 2, 3, 7, 13, 31, 33, 65, 127, 129};
const double alpha_beta[][2] = {{1, 0}, {1, 1}, {-0.5, 2}, {2, 0}, {0.75, -1}};

// All four transposes x odd m, n x a few depths (the depths cover the read-in-place B path
// (k <= 16), the swapped and inner-product paths (k >= 64) and edge tiles everywhere).
template <class Arch, class T>
void check_odd_sizes(std::initializer_list<std::size_t> depths) {
  std::uint64_t seed = 1;
  for (int t = 0; t < 4; ++t)
    for (std::size_t m : odd_sizes)
      for (std::size_t n : odd_sizes)
        for (std::size_t k : depths) {
          const auto& ab = alpha_beta[seed % 5];
          check_case<Arch, T>({t / 2 == 1, t % 2 == 1, m, n, k, ab[0], ab[1]}, seed++);
        }
}

// Shapes that cross the cache blocks (several K and N blocks, K blocks of the inner-product
// path), the convolution and dense shapes of the Fashion-MNIST net, tall-skinny and short-wide
// ones.
template <class Arch, class T>
void check_block_shapes() {
  struct Shape {
    std::size_t m, n, k;
  };
  const Shape shapes[] = {{33, 65, 1000}, {13, 1700, 40},  {130, 70, 800},  {32, 676, 9},
                          {64, 121, 288}, {64, 288, 121},  {288, 121, 64},  {32, 9, 676},
                          {9, 32, 676},   {64, 128, 1600}, {128, 1600, 64}, {1000, 5, 70},
                          {3, 1000, 70},  {200, 1, 300},   {1, 200, 300},   {500, 3, 300},
                          {12, 200, 2000}};
  std::uint64_t seed = 1000;
  for (int t = 0; t < 4; ++t)
    for (const Shape& s : shapes) {
      const auto& ab = alpha_beta[seed % 5];
      check_case<Arch, T>({t / 2 == 1, t % 2 == 1, s.m, s.n, s.k, ab[0], ab[1]}, seed++);
    }
}

void set_threads([[maybe_unused]] int threads) {
#if CTNN_HAS_OPENMP
  omp_set_num_threads(threads);
#endif
}

int max_threads() {
#if CTNN_HAS_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Restores the OpenMP thread count on scope exit.
struct ThreadCount {
  int saved = max_threads();
  explicit ThreadCount(int threads) { set_threads(threads); }
  ~ThreadCount() { set_threads(saved); }
};

}  // namespace

TEST_CASE("gemm matches the reference on odd sizes (default instruction set)", "[gemm]") {
  INFO("compiled for " << cpu::gemm_arch_name());
  for (int threads : {1, 3}) {
    ThreadCount tc(threads);
    SECTION("float, " + std::to_string(threads) + " threads") {
      check_odd_sizes<cpu::gemm_default_arch, float>({1, 7, 9, 33, 129});
    }
    SECTION("double, " + std::to_string(threads) + " threads") {
      check_odd_sizes<cpu::gemm_default_arch, double>({1, 9, 33, 129});
    }
  }
}

TEST_CASE("gemm matches the reference across cache blocks and network shapes", "[gemm]") {
  for (int threads : {1, 2}) {
    ThreadCount tc(threads);
    check_block_shapes<cpu::gemm_default_arch, float>();
    check_block_shapes<cpu::gemm_default_arch, double>();
  }
}

TEST_CASE("gemm portable kernels (scalar, SSE2, AVX2) match the reference", "[gemm]") {
  ThreadCount tc(1);
  check_odd_sizes<cpu::scalar_arch, float>({1, 9, 129});
  check_odd_sizes<cpu::scalar_arch, double>({1, 9, 129});
#if XSIMD_WITH_SSE2
  if constexpr (!std::is_same_v<cpu::gemm_default_arch, xsimd::sse2>) {
    check_odd_sizes<xsimd::sse2, float>({1, 9, 129});
    check_odd_sizes<xsimd::sse2, double>({1, 9, 129});
  }
#endif
#if XSIMD_WITH_FMA3_AVX2
  if constexpr (!std::is_same_v<cpu::gemm_default_arch, xsimd::fma3<xsimd::avx2>>) {
    check_odd_sizes<xsimd::fma3<xsimd::avx2>, float>({1, 9, 129});
    check_odd_sizes<xsimd::fma3<xsimd::avx2>, double>({1, 9, 129});
  }
#endif
}

// gemm_packed_a (op(A) packed once, B read in place): odd sizes around the register block, both
// layouts of A, every value of C (and nothing past its N columns) written.
template <class T>
void check_packed_a() {
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  for (bool ta : {false, true})
    for (std::size_t m : {1, 5, 6, 7, 13, 64})
      for (std::size_t n : {1, 7, 16, 17, 40})
        for (std::size_t k : {1, 3, 32, 67}) {
          INFO("ta=" << ta << " m=" << m << " n=" << n << " k=" << k);
          ctnn::Rng rng(m * 1000 + n * 10 + k);
          const std::size_t lda = (ta ? m : k) + 2, ldb = n + 40, ldc = n + 3;  // B: a vector past N
          std::vector<T> a((ta ? k : m) * lda), b(k * ldb), c(m * ldc, T(-7)), expected(m * ldc, T(-7));
          for (auto& v : a) v = T(rng.uniform(-1, 1));
          for (auto& v : b) v = T(rng.uniform(-1, 1));
          std::vector<T> pa(cpu::packed_a_size<T>(m, k));
          cpu::pack_a_panels(ta, m, k, a.data(), lda, pa.data());
          cpu::gemm_packed_a(m, n, k, pa.data(), b.data(), ldb, c.data(), ldc);
          ref::gemm(ta, false, m, n, k, T(1), a.data(), lda, b.data(), ldb, T(0), expected.data(), ldc);
          double worst = 0;
          for (std::size_t i = 0; i < c.size(); ++i) worst = std::max(worst, std::abs(double(c[i] - expected[i])));
          REQUIRE(worst <= tol * double(k));
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = n; j < ldc; ++j) REQUIRE(c[i * ldc + j] == T(-7));
        }
}

TEST_CASE("gemm_packed_a (A packed once, B read in place) matches the reference", "[gemm]") {
  check_packed_a<float>();
  check_packed_a<double>();
}

TEST_CASE("gemm with k == 0 scales C, and empty C is left alone", "[gemm]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float a = 1, b = 1;
  std::vector<float> c = {1, 2, 3, nan, 4, 5, 6, nan};  // (2, 3), ldc 4
  cpu::gemm(false, false, 2, 3, 0, 2.0f, &a, 1, &b, 3, 0.5f, c.data(), 4);
  CHECK(c[0] == 0.5f);
  CHECK(c[2] == 1.5f);
  CHECK(c[6] == 3.0f);
  CHECK(std::isnan(c[3]));  // padding untouched
  std::vector<float> d = {nan, nan, nan, 7};
  cpu::gemm(true, true, 1, 3, 0, 1.0f, &a, 1, &b, 1, 0.0f, d.data(), 4);
  CHECK(d[0] == 0.0f);
  CHECK(d[1] == 0.0f);
  CHECK(d[2] == 0.0f);
  CHECK(d[3] == 7.0f);
  cpu::gemm(false, false, 0, 3, 5, 1.0f, &a, 5, &b, 3, 0.0f, d.data(), 4);
  cpu::gemm(false, false, 1, 0, 5, 1.0f, &a, 5, &b, 3, 0.0f, d.data(), 4);
  CHECK(d[0] == 0.0f);
  CHECK(d[3] == 7.0f);
}

TEST_CASE("gemm results do not depend on the thread count", "[gemm]") {
  // Each element of C is computed by one thread with the same K order whatever the partition,
  // so the results are bitwise equal (stronger than "deterministic for a given count").
  const Case cases[] = {{false, false, 515, 333, 300, 1, 0},
                        {true, false, 130, 1700, 70, 0.5, 1},
                        {false, true, 64, 128, 1600, 1, 0},
                        {true, true, 257, 260, 129, -1, 0.25},
                        {false, true, 12, 2000, 300, 1, 1},  // inner products
                        {false, false, 2000, 3, 300, 1, 0},  // inner products, B transposed
                        {true, false, 500, 9, 300, 2, 0.5},  // C^T computed
                        {false, false, 32, 4000, 9, 1, 0}};  // B read in place
  for (const Case& c : cases) {
    INFO(describe(c));
    Problem<float> base = make_problem<float>(c, 99);
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3, 4, 1}) {
      ThreadCount tc(threads);
      Problem<float> p = base;
      run_cpu<cpu::gemm_default_arch>(c, p);
      results.push_back(p.c);
    }
    for (std::size_t r = 1; r < results.size(); ++r) {
      bool same = true;
      for (std::size_t i = 0; i < results[0].size(); ++i)
        same = same && (results[r][i] == results[0][i] ||
                        (std::isnan(results[r][i]) && std::isnan(results[0][i])));
      CHECK(same);
    }
  }
}

#if CTNN_HAS_OPENMP
TEST_CASE("gemm called from inside a parallel region runs serially and correctly", "[gemm]") {
  const Case c{false, true, 200, 150, 100, 1, 0};
  Problem<float> expected = make_problem<float>(c, 5);
  ref::gemm(c.ta, c.tb, c.m, c.n, c.k, 1.0f, expected.a.data(), expected.lda, expected.b.data(),
            expected.ldb, 0.0f, expected.c.data(), expected.ldc);
  std::vector<Problem<float>> per_thread(4, make_problem<float>(c, 5));
  ThreadCount tc(4);
#pragma omp parallel for
  for (int t = 0; t < 4; ++t) run_cpu<cpu::gemm_default_arch>(c, per_thread[t]);
  for (const auto& p : per_thread) {
    double worst = 0;
    for (std::size_t i = 0; i < p.c.size(); ++i)
      worst = std::max(worst, double(std::abs(p.c[i] - expected.c[i])));
    CHECK(worst < 1e-4);
  }
}
#endif

TEST_CASE("gemm does not allocate once its workspace has grown", "[gemm]") {
  for (int threads : {1, 2}) {
    ThreadCount tc(threads);
    const Case shapes[] = {{false, false, 300, 400, 500, 1, 0},
                           {true, true, 64, 1600, 128, 1, 1},
                           {false, true, 32, 9, 676, 1, 0},
                           {false, false, 32, 676, 9, 1, 1}};
    std::vector<Problem<float>> problems;
    for (const Case& c : shapes) problems.push_back(make_problem<float>(c, 3));
    for (std::size_t i = 0; i < 4; ++i) run_cpu<cpu::gemm_default_arch>(shapes[i], problems[i]);
    allocations = 0;
    counting = true;
    for (int repeat = 0; repeat < 3; ++repeat)
      for (std::size_t i = 0; i < 4; ++i) run_cpu<cpu::gemm_default_arch>(shapes[i], problems[i]);
    counting = false;
    INFO(threads << " threads");
    CHECK(allocations.load() == 0);
  }
}
