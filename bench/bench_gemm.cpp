// ctnn::kernels::cpu::gemm against OpenBLAS cblas_sgemm: square sizes and the GEMM shapes the
// Fashion-MNIST net lowers to at batch 64, at 1 and 2 threads (OpenMP for ctnn,
// openblas_set_num_threads for OpenBLAS). Every benchmark reports a GFLOP/s counter; after the
// runs a summary table gives the best GFLOP/s of each side and the ratio ctnn / OpenBLAS.
//
//   bench_gemm [--benchmark_filter=conv] [--benchmark_repetitions=5] [--benchmark_min_time=0.1]
//
// Timing: the usual columns (one thread: CPU time, two threads: wall time) and a mean GFLOP
// rate; the counter best_GFLOP/s and the summary use the fastest single call (wall time), the
// speed of a call no other process interfered with (the build machine is shared).
// Net: Input 1x28x28 -> Conv<32,3> 32x26x26 -> MaxPool2 32x13x13 -> Conv<64,3> 64x11x11 ->
// MaxPool2 64x5x5 -> Flatten 1600 -> Dense 128 -> Dense 10, convolutions lowered with im2col.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "ctnn/kernels/cpu/gemm.hpp"
#include "ctnn/random.hpp"

#if CTNN_HAS_OPENMP
#include <omp.h>
#endif

namespace {

struct Shape {
  const char* name;
  bool ta, tb;
  std::size_t m, n, k;
  const char* what;
};

// (M,K) x (K,N); ta / tb: the operand is stored transposed, as the layer stores it.
const Shape shapes[] = {
    {"square256", false, false, 256, 256, 256, "square"},
    {"square512", false, false, 512, 512, 512, "square"},
    {"square1024", false, false, 1024, 1024, 1024, "square"},
    {"conv1_fwd", false, false, 32, 676, 9, "W (32,9) x cols (9,676), per sample"},
    {"conv1_fwd_b64", false, false, 32, 64 * 676, 9, "same, 64 samples' cols side by side"},
    {"conv1_dW", false, true, 32, 9, 676, "dY (32,676) x cols^T, per sample"},
    {"conv2_fwd", false, false, 64, 121, 288, "W (64,288) x cols (288,121), per sample"},
    {"conv2_fwd_b64", false, false, 64, 64 * 121, 288, "same, 64 samples side by side"},
    {"conv2_dW", false, true, 64, 288, 121, "dY (64,121) x cols^T, per sample"},
    {"conv2_dcols", true, false, 288, 121, 64, "W^T (288,64) x dY (64,121), per sample"},
    {"dense1_fwd", false, true, 64, 128, 1600, "X (64,1600) x W^T, W (128,1600)"},
    {"dense1_dW", true, false, 128, 1600, 64, "dY^T (128,64) x X (64,1600)"},
    {"dense1_dX", false, false, 64, 1600, 128, "dY (64,128) x W (128,1600)"},
    {"dense2_fwd", false, true, 64, 10, 128, "X (64,128) x W^T, W (10,128)"},
};
constexpr int thread_counts[] = {1, 2};

double flops(const Shape& s) { return 2.0 * double(s.m) * double(s.n) * double(s.k); }

enum class Impl { ctnn, openblas };

// The library under test gets `threads`, the other one 1: an idle OpenBLAS pool that was just
// resized spins on the second core and starves ctnn's OpenMP worker (measured: ctnn's 2-thread
// calls took milliseconds behind it).
void set_threads(Impl impl, int threads) {
#if CTNN_HAS_OPENMP
  omp_set_num_threads(impl == Impl::ctnn ? threads : 1);
#endif
  openblas_set_num_threads(impl == Impl::openblas ? threads : 1);
}

// 64-byte aligned operands, filled once.
struct Operands {
  std::size_t lda, ldb, ldc;
  std::vector<float> storage;
  float *a, *b, *c;
  explicit Operands(const Shape& s) {
    lda = s.ta ? s.m : s.k;
    ldb = s.tb ? s.k : s.n;
    ldc = s.n;
    const std::size_t na = s.m * s.k + 16, nb = s.k * s.n + 16, nc = s.m * s.n + 16;
    storage.resize(na + nb + nc + 16);
    auto align = [](float* p) {
      return reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(p) + 63) &
                                      ~std::uintptr_t(63));
    };
    a = align(storage.data());
    b = align(a + na);
    c = align(b + nb);
    ctnn::Rng rng(42);
    for (std::size_t i = 0; i < s.m * s.k; ++i) a[i] = float(rng.uniform(-1, 1));
    for (std::size_t i = 0; i < s.k * s.n; ++i) b[i] = float(rng.uniform(-1, 1));
    std::fill(c, c + s.m * s.n, 0.0f);
  }
};

void run_ctnn(const Shape& s, Operands& o) {
  ctnn::kernels::cpu::gemm(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a, o.lda, o.b, o.ldb, 0.0f, o.c,
                           o.ldc);
}

void run_openblas(const Shape& s, Operands& o) {
  cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
              int(s.m), int(s.n), int(s.k), 1.0f, o.a, int(o.lda), o.b, int(o.ldb), 0.0f, o.c,
              int(o.ldc));
}

// The two libraries must agree before their speed is compared.
bool agree(const Shape& s, Operands& o) {
  run_openblas(s, o);
  const std::vector<float> expected(o.c, o.c + s.m * s.n);
  std::fill(o.c, o.c + s.m * s.n, std::nanf(""));
  run_ctnn(s, o);
  for (std::size_t i = 0; i < s.m * s.n; ++i)
    if (!(std::abs(o.c[i] - expected[i]) <= 1e-5f * float(s.k + 1))) return false;
  return true;
}

void bench(benchmark::State& state, Impl impl, const Shape& s, int threads) {
  set_threads(impl, threads);
  Operands o(s);
  if (impl == Impl::ctnn && !agree(s, o)) {
    state.SkipWithError("ctnn and OpenBLAS disagree");
    return;
  }
  const auto call = impl == Impl::ctnn ? run_ctnn : run_openblas;
  call(s, o);  // warm the workspace / thread pool
  double best = 1e30;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    call(s, o);
    benchmark::DoNotOptimize(o.c);
    benchmark::ClobberMemory();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                              .count());
  }
  // Mean rate over the run, and the rate of the fastest single call (what the machine does
  // when no other process interferes).
  state.counters["GFLOP"] =
      benchmark::Counter(flops(s) / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["best_GFLOP/s"] = flops(s) / best / 1e9;
}

// Console output as usual, plus the fastest single call of every benchmark for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;
  std::map<std::string, double> best;  // function name => best_GFLOP/s over all repetitions

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      const auto it = r.counters.find("best_GFLOP/s");
      if (it == r.counters.end()) continue;
      double& b = best[r.run_name.function_name];
      b = std::max(b, double(it->second));
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void PrintSummary() const {
    std::printf("\nSummary: GFLOP/s of the fastest single call over all repetitions\n");
    std::printf("| shape | M | N | K | op | threads | ctnn | OpenBLAS | ctnn / OpenBLAS |\n");
    std::printf("|---|---:|---:|---:|---|---:|---:|---:|---:|\n");
    for (const Shape& s : shapes)
      for (int t : thread_counts) {
        const std::string suffix = std::string(s.name) + "/threads:" + std::to_string(t);
        const auto c = best.find("ctnn/" + suffix), o = best.find("openblas/" + suffix);
        if (c == best.end() || o == best.end()) continue;
        std::printf("| %s | %zu | %zu | %zu | %s%s | %d | %.1f | %.1f | %.2f |\n", s.name, s.m,
                    s.n, s.k, s.ta ? "T" : "N", s.tb ? "T" : "N", t, c->second, o->second,
                    c->second / o->second);
      }
  }
};

}  // namespace

int main(int argc, char** argv) {
  // Defaults suited to a shared machine, unless given on the command line.
  std::vector<char*> args(argv, argv + argc);
  std::string reps = "--benchmark_repetitions=5", min_time = "--benchmark_min_time=0.1";
  auto given = [&](const char* flag) {
    return std::any_of(args.begin(), args.end(),
                       [&](const char* a) { return std::string(a).rfind(flag, 0) == 0; });
  };
  if (!given("--benchmark_repetitions")) args.push_back(reps.data());
  if (!given("--benchmark_min_time")) args.push_back(min_time.data());
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;

  benchmark::AddCustomContext("ctnn_gemm_arch", ctnn::kernels::cpu::gemm_arch_name());
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());

  for (const Shape& s : shapes)
    for (int t : thread_counts)
      for (Impl impl : {Impl::ctnn, Impl::openblas}) {
        const std::string name = std::string(impl == Impl::ctnn ? "ctnn/" : "openblas/") + s.name +
                                 "/threads:" + std::to_string(t);
        auto* b = benchmark::RegisterBenchmark(
            name.c_str(), [impl, &s, t](benchmark::State& st) { bench(st, impl, s, t); });
        b->Unit(benchmark::kMicrosecond);
        if (t > 1) b->UseRealTime();
      }

  // Colour only on a terminal (a custom reporter does not see --benchmark_color).
  SummaryReporter reporter(isatty(fileno(stdout)) ? benchmark::ConsoleReporter::OO_ColorTabular
                                                 : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}
