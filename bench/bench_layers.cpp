// Per-layer micro-benchmarks of the Fashion-MNIST CNN's convolution, pooling and ReLU layers at
// batch 64 (float): ctnn's CPU kernels (kernels/cpu) at 1 and 2 OpenMP threads and the scalar
// reference kernels (kernels/reference) at 1 thread. bench/run_layers runs this next to
// bench/layers_torch.py (PyTorch, same layers, same thread counts) and prints the ratios.
//
//   bench_layers [--threads "1 2"] [--benchmark_filter=conv2] [--benchmark_repetitions=3]
//                [--benchmark_min_time=0.1] [--benchmark_out=FILE --benchmark_out_format=json]
//                [--json-out FILE]   (the same as the two --benchmark_out flags)
//   --threads: the ctnn kernels' OpenMP thread counts (default "1 2"); the reference runs at 1.
//
// Net: Input 1x28x28 -> Conv<32,3> 32x26x26 -> Relu -> MaxPool<2> 32x13x13 -> Conv<64,3>
// 64x11x11 -> Relu -> MaxPool<2> 64x5x5 -> Flatten -> Dense<128> -> Relu -> Dropout -> Dense<10>.
// Cases (names "CASE/IMPL/omp:THREADS", IMPL ctnn or reference):
//   conv1_fwd, conv1_bwd (dW, db; no dx: the first layer's input needs no gradient),
//   conv2_fwd, conv2_bwd (dW, db and dx), pool1_fwd/bwd, pool2_fwd/bwd (max pooling, argmax per
//   output), relu1_fwd/bwd (the ReLU after conv1, 64x32x26x26 values).
// Timing: wall clock (UseRealTime). Counters: GFLOP/s (convolutions: 2*F*C*K*K*OH*OW*batch per
// forward; backward 2x that with dx, 1x without), GB/s (bytes each pass must read and write at
// least: pooling and ReLU), images/s; best_ms is the fastest single call of the run (what the
// kernel does when no other process interferes: the machine may be shared), and best_GFLOP/s or
// best_GB/s the rate of that call. Inputs are deterministic (ctnn::Rng, fixed seeds).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "ctnn/kernels/cpu/conv.hpp"
#include "ctnn/kernels/cpu/elementwise.hpp"
#include "ctnn/kernels/cpu/pool.hpp"
#include "ctnn/kernels/geometry.hpp"
#include "ctnn/kernels/reference/conv.hpp"
#include "ctnn/kernels/reference/elementwise.hpp"
#include "ctnn/kernels/reference/pool.hpp"
#include "ctnn/random.hpp"

#if CTNN_HAS_OPENMP
#include <omp.h>
#endif

namespace {

namespace cpu = ctnn::kernels::cpu;
namespace ref = ctnn::kernels::reference;
using ctnn::kernels::ConvGeometry;
using ctnn::kernels::PoolGeometry;

constexpr std::size_t batch = 64;
// {channels, height, width, filters, kernel, stride, padding, out_height, out_width}
constexpr ConvGeometry conv1{1, 28, 28, 32, 3, 1, 0, 26, 26};
constexpr ConvGeometry conv2{32, 13, 13, 64, 3, 1, 0, 11, 11};
// {channels, height, width, window, stride, out_height, out_width}
constexpr PoolGeometry pool1{32, 26, 26, 2, 2, 13, 13};
constexpr PoolGeometry pool2{64, 11, 11, 2, 2, 5, 5};
constexpr std::size_t relu1_size = batch * conv1.output_size();

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, double lo = -1, double hi = 1) {
  ctnn::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = float(rng.uniform(lo, hi));
  return v;
}

enum class Impl { ctnn, reference };

void set_threads(int threads) {
#if CTNN_HAS_OPENMP
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

// What a case measures: `flops` per call (0: none) and `bytes` per call (0: not reported).
struct Work {
  double flops = 0, bytes = 0;
};

// Runs `call` in the timing loop and sets the counters. `call` is one pass over the batch.
void time_loop(benchmark::State& state, const Work& work, const std::function<void()>& call) {
  call();  // warm-up: grows the workspace, starts the OpenMP pool, touches the pages
  double best = 1e30;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    call();
    benchmark::ClobberMemory();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  using C = benchmark::Counter;
  state.counters["images/s"] = C(double(batch), C::kIsIterationInvariantRate);
  state.counters["best_ms"] = best * 1e3;
  if (work.flops > 0) {
    state.counters["GFLOP/s"] = C(work.flops * 1e-9, C::kIsIterationInvariantRate);
    state.counters["best_GFLOP/s"] = work.flops * 1e-9 / best;
  }
  if (work.bytes > 0) {
    state.counters["GB/s"] = C(work.bytes * 1e-9, C::kIsIterationInvariantRate);
    state.counters["best_GB/s"] = work.bytes * 1e-9 / best;
  }
}

template <ConvGeometry G>
constexpr double conv_flops() {
  return 2.0 * double(G.filters) * double(G.patch_size()) * double(G.out_pixels()) * double(batch);
}

template <ConvGeometry G>
void conv_forward(benchmark::State& state, Impl impl, int threads) {
  set_threads(threads);
  const auto x = random_vector(batch * G.input_size(), 1);
  const auto w = random_vector(G.filters * G.patch_size(), 2, -0.3, 0.3);
  const auto b = random_vector(G.filters, 3, -0.1, 0.1);
  std::vector<float> y(batch * G.output_size());
  cpu::conv_workspace<float> ws;
  time_loop(state, {conv_flops<G>(), 0}, [&] {
    if (impl == Impl::ctnn)
      cpu::conv2d_forward<G>(x.data(), w.data(), b.data(), y.data(), batch, ws);
    else
      ref::conv2d_forward<G>(x.data(), w.data(), b.data(), y.data(), batch);
    benchmark::DoNotOptimize(y.data());
  });
}

template <ConvGeometry G>
void conv_backward(benchmark::State& state, Impl impl, int threads, bool with_dx) {
  set_threads(threads);
  const auto x = random_vector(batch * G.input_size(), 1);
  const auto w = random_vector(G.filters * G.patch_size(), 2, -0.3, 0.3);
  const auto dy = random_vector(batch * G.output_size(), 4, -0.01, 0.01);
  std::vector<float> dx(with_dx ? batch * G.input_size() : 0), dw(w.size()), db(G.filters);
  float* dxp = with_dx ? dx.data() : nullptr;
  cpu::conv_workspace<float> ws;
  time_loop(state, {conv_flops<G>() * (with_dx ? 2 : 1), 0}, [&] {
    if (impl == Impl::ctnn)
      cpu::conv2d_backward<G>(x.data(), w.data(), dy.data(), dxp, dw.data(), db.data(), batch, ws);
    else
      ref::conv2d_backward<G>(x.data(), w.data(), dy.data(), dxp, dw.data(), db.data(), batch);
    benchmark::DoNotOptimize(dw.data());
    benchmark::DoNotOptimize(dxp);
  });
}

template <PoolGeometry G>
void pool_forward(benchmark::State& state, Impl impl, int threads) {
  set_threads(threads);
  const auto x = random_vector(batch * G.input_size(), 5);
  std::vector<float> y(batch * G.output_size());
  std::vector<std::uint32_t> argmax(y.size());
  // reads x, writes y and argmax
  const double bytes = 4.0 * double(batch) * double(G.input_size() + 2 * G.output_size());
  time_loop(state, {0, bytes}, [&] {
    if (impl == Impl::ctnn)
      cpu::maxpool_forward<G>(x.data(), y.data(), argmax.data(), batch);
    else
      ref::maxpool_forward<G>(x.data(), y.data(), argmax.data(), batch);
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(argmax.data());
  });
}

template <PoolGeometry G>
void pool_backward(benchmark::State& state, Impl impl, int threads) {
  set_threads(threads);
  const auto x = random_vector(batch * G.input_size(), 5);
  const auto dy = random_vector(batch * G.output_size(), 6, -0.01, 0.01);
  std::vector<float> y(batch * G.output_size()), dx(batch * G.input_size());
  std::vector<std::uint32_t> argmax(y.size());
  ref::maxpool_forward<G>(x.data(), y.data(), argmax.data(), batch);  // the real winners
  // reads dy and argmax, writes dx
  const double bytes = 4.0 * double(batch) * double(2 * G.output_size() + G.input_size());
  time_loop(state, {0, bytes}, [&] {
    if (impl == Impl::ctnn)
      cpu::maxpool_backward<G>(dy.data(), argmax.data(), dx.data(), batch);
    else
      ref::maxpool_backward<G>(dy.data(), argmax.data(), dx.data(), batch);
    benchmark::DoNotOptimize(dx.data());
  });
}

void relu_forward(benchmark::State& state, Impl impl, int threads) {
  set_threads(threads);
  const auto x = random_vector(relu1_size, 7);
  std::vector<float> y(relu1_size);
  time_loop(state, {0, 8.0 * double(relu1_size)}, [&] {
    if (impl == Impl::ctnn)
      cpu::relu_forward(x.data(), y.data(), relu1_size);
    else
      ref::relu_forward(x.data(), y.data(), relu1_size);
    benchmark::DoNotOptimize(y.data());
  });
}

void relu_backward(benchmark::State& state, Impl impl, int threads) {
  set_threads(threads);
  const auto x = random_vector(relu1_size, 7);
  const auto dy = random_vector(relu1_size, 8, -0.01, 0.01);
  std::vector<float> dx(relu1_size);
  time_loop(state, {0, 12.0 * double(relu1_size)}, [&] {
    if (impl == Impl::ctnn)
      cpu::relu_backward(x.data(), dy.data(), dx.data(), relu1_size);
    else
      ref::relu_backward(x.data(), dy.data(), dx.data(), relu1_size);
    benchmark::DoNotOptimize(dx.data());
  });
}

struct Case {
  const char* name;
  std::function<void(benchmark::State&, Impl, int)> run;
};

const Case cases[] = {
    {"conv1_fwd", [](benchmark::State& s, Impl i, int t) { conv_forward<conv1>(s, i, t); }},
    {"conv1_bwd", [](benchmark::State& s, Impl i, int t) { conv_backward<conv1>(s, i, t, false); }},
    {"conv2_fwd", [](benchmark::State& s, Impl i, int t) { conv_forward<conv2>(s, i, t); }},
    {"conv2_bwd", [](benchmark::State& s, Impl i, int t) { conv_backward<conv2>(s, i, t, true); }},
    {"pool1_fwd", [](benchmark::State& s, Impl i, int t) { pool_forward<pool1>(s, i, t); }},
    {"pool1_bwd", [](benchmark::State& s, Impl i, int t) { pool_backward<pool1>(s, i, t); }},
    {"pool2_fwd", [](benchmark::State& s, Impl i, int t) { pool_forward<pool2>(s, i, t); }},
    {"pool2_bwd", [](benchmark::State& s, Impl i, int t) { pool_backward<pool2>(s, i, t); }},
    {"relu1_fwd", relu_forward},
    {"relu1_bwd", relu_backward},
};

}  // namespace

int main(int argc, char** argv) {
  // --json-out FILE is shorthand for --benchmark_out=FILE --benchmark_out_format=json; the
  // defaults suit a shared machine unless given on the command line.
  std::vector<std::string> storage;
  std::vector<int> thread_counts;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      std::string list = argv[++i];
      std::replace(list.begin(), list.end(), ',', ' ');
      std::size_t pos = 0;
      while ((pos = list.find_first_not_of(' ', pos)) != std::string::npos) {
        const std::size_t end = std::min(list.find(' ', pos), list.size());
        const int t = std::atoi(list.substr(pos, end - pos).c_str());
        if (t < 1) {
          std::fprintf(stderr, "bench_layers: bad --threads '%s'\n", argv[i]);
          return 2;
        }
        thread_counts.push_back(t);
        pos = end;
      }
    } else if (std::strcmp(argv[i], "--json-out") == 0 && i + 1 < argc) {
      storage.push_back(std::string("--benchmark_out=") + argv[++i]);
      storage.emplace_back("--benchmark_out_format=json");
    } else {
      storage.emplace_back(argv[i]);
    }
  }
  auto given = [&](const char* flag) {
    return std::any_of(storage.begin(), storage.end(),
                       [&](const std::string& a) { return a.rfind(flag, 0) == 0; });
  };
  if (thread_counts.empty()) thread_counts = {1, 2};
  if (!given("--benchmark_repetitions")) storage.emplace_back("--benchmark_repetitions=3");
  if (!given("--benchmark_min_time")) storage.emplace_back("--benchmark_min_time=0.1");
  std::vector<char*> args;
  for (std::string& a : storage) args.push_back(a.data());
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;

  benchmark::AddCustomContext("ctnn_batch", std::to_string(batch));
#if CTNN_HAS_OPENMP
  benchmark::AddCustomContext("ctnn_openmp", "yes");
#else
  benchmark::AddCustomContext("ctnn_openmp", "no (every thread count runs on one thread)");
#endif

  struct Variant {
    Impl impl;
    int threads;
  };
  std::vector<Variant> variants;
  for (int t : thread_counts) variants.push_back({Impl::ctnn, t});
  variants.push_back({Impl::reference, 1});
  for (const Case& c : cases) {
    for (const Variant v : variants) {
      const std::string name = std::string(c.name) + (v.impl == Impl::ctnn ? "/ctnn" : "/reference") +
                               "/omp:" + std::to_string(v.threads);
      const Case* cp = &c;
      benchmark::RegisterBenchmark(name.c_str(), [cp, v](benchmark::State& s) { cp->run(s, v.impl, v.threads); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
