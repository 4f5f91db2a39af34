// End-to-end benchmark of ctnn: training and inference images/s of the two example nets
// (examples/models.hpp), and a per-layer timing breakdown of one training step.
//
//   e2e_ctnn --net fashion|cnn384 --mode train|infer|layers|peak [--threads N] [--warmup N]
//            [--min-steps N] [--window S] [--windows R] [--max-seconds S] [--limit N] [--data DIR]
//
// train:  full steps (forward_train, SoftmaxCrossEntropy, backward, Adam step), batch 64 on real
//         Fashion-MNIST (first --limit training images, shuffled each epoch) or batch 8 of random
//         3x384x384 images with 2 classes.
// infer:  predict() on the same batches.
// layers: forward (training mode) and backward time of every layer, loss and Adam step, of one
//         training step (median over the timed steps).
// peak:   the FMA throughput of one core, measured: independent chains of vector FMAs (16 on
//         AVX-512, 12 on AVX2; no memory traffic) at the widest width the compiler flags allow,
//         on the CPU clock.
// After --warmup steps, the run is cut into --windows windows of at least --min-steps steps and
// --window seconds each; the best window is reported (the machine is shared: best-of is the
// least disturbed estimate), with the median as well, and the images per CPU-second over all
// windows (process CPU time, all threads: when single-threaded it hardly depends on preemption by
// other processes). --max-seconds caps the timed part (at least one window always runs).
// Output: one machine-readable line per measurement,
//   RESULT impl=ctnn net=fashion mode=train threads=2 batch=64 images_per_s=... ...
#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <iostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "../examples/models.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
// CPU seconds used by the whole process (all threads). On a shared machine a single-threaded
// run's CPU time hardly depends on how often it was preempted, unlike its wall time.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Options {
  std::string net = "fashion", mode = "train";
  int threads = 1;
  std::size_t warmup = 3, min_steps = 5, windows = 3, limit = 10000;
  double window = 1.0, max_seconds = 60.0;
  std::filesystem::path data = ctnn::data::default_fashion_mnist_dir();
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "e2e_ctnn: " << why
            << "\nusage: e2e_ctnn --net fashion|cnn384 --mode train|infer|layers|peak [--threads N]"
               " [--warmup N] [--min-steps N] [--window S] [--windows R] [--max-seconds S]"
               " [--limit N] [--data DIR]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--net") o.net = value();
    else if (a == "--mode") o.mode = value();
    else if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--warmup") o.warmup = std::stoul(value());
    else if (a == "--min-steps") o.min_steps = std::stoul(value());
    else if (a == "--window") o.window = std::stod(value());
    else if (a == "--windows") o.windows = std::stoul(value());
    else if (a == "--max-seconds") o.max_seconds = std::stod(value());
    else if (a == "--limit") o.limit = std::stoul(value());
    else if (a == "--data") o.data = value();
    else usage("unknown option " + a);
  }
  if (o.net != "fashion" && o.net != "cnn384") usage("--net must be fashion or cnn384");
  if (o.mode != "train" && o.mode != "infer" && o.mode != "layers" && o.mode != "peak")
    usage("--mode must be train, infer, layers or peak");
  if (o.threads < 1 || o.windows < 1 || o.min_steps < 1) usage("counts must be >= 1");
  return o;
}

// ---- FLOPs of a net, from its type --------------------------------------------------------
// Multiply-adds count 2. Conv: 2*F*C*K*K*OH*OW per sample forward; Dense: 2*In*Out. Backward
// is 2x forward (dW and dX GEMMs) except for the first layer, whose dX is not computed (ctnn
// passes dx == nullptr; PyTorch does not need the input gradient either). Elementwise layers,
// pooling, the loss and Adam are not counted (they are O(activations), not O(MACs)). These are
// the FLOPs of direct convolution, as PyTorch's are counted: ctnn's 3x3 stride-1 layers run
// Winograd F(2x2,3x3) with 2.25x fewer multiply-adds, so for ctnn this is an effective rate.
template <class L, class In>
struct layer_flops {
  static constexpr double value = 0;
};
template <std::size_t F, std::size_t K, std::size_t S, std::size_t P, class In>
struct layer_flops<ctnn::Conv<F, K, S, P>, In> {
  static constexpr auto G = ctnn::Conv<F, K, S, P>::template geometry<In>;
  static constexpr double value = 2.0 * double(G.filters) * double(G.patch_size()) * double(G.out_pixels());
};
template <std::size_t U, class In>
struct layer_flops<ctnn::Dense<U>, In> {
  static constexpr double value = 2.0 * double(In::size) * double(U);
};

template <class Model>
struct NetInfo;
template <class First, class... Layers>
struct NetInfo<ctnn::Net<First, Layers...>> {
  using in_shape = typename First::shape;
  using shapes = ctnn::detail::chain_shapes<in_shape, Layers...>;  // input of each layer, then output
  static constexpr std::size_t length = sizeof...(Layers);
  template <std::size_t I>
  using shape_at = ctnn::detail::list_at_t<I, shapes>;
  template <std::size_t I>
  using layer_at = std::tuple_element_t<I, std::tuple<Layers...>>;

  static double forward_flops() {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (0.0 + ... + layer_flops<layer_at<I>, shape_at<I>>::value);
    }(std::make_index_sequence<length>{});
  }
  static double train_flops() {
    return 3.0 * forward_flops() - layer_flops<layer_at<0>, shape_at<0>>::value;
  }

  // One single-layer Sequence per layer: the same runtime objects Net runs, timed one by one.
  template <std::size_t I>
  using stage = ctnn::Sequence<float, shape_at<I>, layer_at<I>>;
  using stages = decltype([]<std::size_t... I>(std::index_sequence<I...>) {
    return std::tuple<stage<I>...>{};
  }(std::make_index_sequence<length>{}));
};

// ---- Workloads ---------------------------------------------------------------------------
// Hands out (images, labels) batches: shuffled real Fashion-MNIST, or fixed random images.
struct Feed {
  std::size_t batch = 0, sample = 0, classes = 0;
  ctnn::data::Dataset dataset;
  std::unique_ptr<ctnn::data::Batches> batches;
  ctnn::Rng rng{7};
  std::vector<float> random_images;
  std::vector<std::int32_t> random_labels;

  std::pair<const float*, const std::int32_t*> next() {
    if (!batches) return {random_images.data(), random_labels.data()};
    ctnn::data::Batch b;
    if (!batches->next(b) || b.size != batch) {  // drop the short last batch: fixed batch size
      batches->start_epoch(&rng);
      batches->next(b);
    }
    return {b.images, b.labels};
  }
};

template <class Model>
Feed make_feed(const Options& o, std::size_t batch) {
  Feed f;
  f.batch = batch;
  f.sample = Model::input_shape::size;
  f.classes = Model::output_shape::size;
  if (o.net == "fashion") {
    auto both = ctnn::data::fashion_mnist(o.data, o.limit);
    f.dataset = std::move(both.train);
    f.batches = std::make_unique<ctnn::data::Batches>(f.dataset, batch);
    f.batches->start_epoch(&f.rng);
  } else {
    ctnn::Rng r{123};
    f.random_images.resize(batch * f.sample);
    for (auto& v : f.random_images) v = float(r.uniform());
    f.random_labels.resize(batch);
    for (auto& l : f.random_labels) l = std::int32_t(r.next() % f.classes);
  }
  return f;
}

struct Timing {
  double best = 0, median = 0, loss = 0, cpu_rate = 0;
  std::size_t steps = 0, windows = 0;
  double seconds = 0;
};

// Runs `step` warm-up times, then windows; returns images/s of the best and the median window.
template <class Step>
Timing measure(const Options& o, std::size_t batch, Step&& step) {
  for (std::size_t i = 0; i < o.warmup; ++i) step();
  std::vector<double> rates;
  Timing t;
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  for (std::size_t w = 0; w < o.windows; ++w) {
    if (w > 0 && seconds_since(start) > o.max_seconds) break;
    const auto begin = Clock::now();
    std::size_t n = 0;
    while (n < o.min_steps || seconds_since(begin) < o.window) {
      t.loss = step();
      ++n;
      if (seconds_since(start) > o.max_seconds && n >= 1 && w > 0) break;
    }
    rates.push_back(double(n * batch) / seconds_since(begin));
    t.steps += n;
  }
  t.seconds = seconds_since(start);
  t.cpu_rate = double(t.steps * batch) / (cpu_seconds() - cpu_start);
  t.windows = rates.size();
  std::sort(rates.begin(), rates.end());
  t.best = rates.back();
  t.median = rates[rates.size() / 2];
  return t;
}

const char* kernels_name() {
  static const std::string name = std::string("fast-") + ctnn::kernels::cpu::gemm_arch_name();
  return name.c_str();
}

template <class Model>
int profile_layers(const Options& o, Feed& feed, Model& net);

template <class Model>
int run_net(const Options& o, std::size_t batch) {
  using Info = NetInfo<Model>;
  Feed feed = make_feed<Model>(o, batch);
  Model net{42};
  using Optimizer = ctnn::Adam<>::rebind<float>;
  Optimizer adam;
  adam.resize(Model::parameter_count);
  std::vector<float> dlogits(batch * feed.classes);
  const double lr = 1e-3;

  auto train_step = [&] {
    auto [x, labels] = feed.next();
    const float* logits = net.forward_train(x, batch);
    const float loss = ctnn::SoftmaxCrossEntropy::forward(logits, labels, batch, feed.classes, dlogits.data());
    net.backward(dlogits.data());
    adam.step(net.parameters(), net.gradients(), lr);
    return double(loss);
  };
  auto infer_step = [&] {
    auto [x, labels] = feed.next();
    const float* logits = net.predict(x, batch);
    return double(logits[0]);
  };

  const double fwd = Info::forward_flops(), train = Info::train_flops();
  std::printf("INFO impl=ctnn net=%s params=%zu flops_forward_per_image=%.6g flops_train_per_image=%.6g kernels=%s openmp=%d\n",
              o.net.c_str(), std::size_t(Model::parameter_count), fwd, train, kernels_name(),
              CTNN_HAS_OPENMP);

  if (o.mode == "layers") return profile_layers<Model>(o, feed, net);

  const bool training = o.mode == "train";
  const Timing t = training ? measure(o, batch, train_step) : measure(o, batch, infer_step);
  const double flops = training ? train : fwd;
  std::printf("RESULT impl=ctnn net=%s mode=%s threads=%d batch=%zu images_per_s=%.2f "
              "median_images_per_s=%.2f cpu_images_per_s=%.2f gflops=%.2f steps=%zu windows=%zu "
              "seconds=%.2f %s=%.4f kernels=%s\n",
              o.net.c_str(), o.mode.c_str(), o.threads, batch, t.best, t.median, t.cpu_rate,
              t.best * flops * 1e-9, t.steps, t.windows, t.seconds,
              training ? "loss" : "logit0", t.loss, kernels_name());
  return 0;
}

// ---- Per-layer breakdown -----------------------------------------------------------------
template <class Model>
int profile_layers(const Options& o, Feed& feed, Model&) {
  using Info = NetInfo<Model>;
  constexpr std::size_t L = Info::length;
  const std::size_t batch = feed.batch;
  typename Info::stages stages;
  std::array<std::vector<float>, L> params, grads, buffers;
  std::array<std::vector<float>, L + 1> act, dact;  // act[i]: input of layer i; act[L]: logits
  ctnn::Rng rng{42};
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (([&] {
       auto& s = std::get<I>(stages);
       using S = std::remove_cvref_t<decltype(s)>;
       params[I].resize(S::parameter_count);
       grads[I].resize(S::parameter_count);
       buffers[I].resize(S::buffer_count);
       s.bind(params[I].data(), grads[I].data(), buffers[I].data());
       s.initialize(rng);
       act[I + 1].resize(batch * Info::template shape_at<I + 1>::size);
       dact[I + 1].resize(batch * Info::template shape_at<I + 1>::size);
     }()), ...);
  }(std::make_index_sequence<L>{});
  act[0].resize(batch * Info::template shape_at<0>::size);
  std::size_t total_params = 0;
  for (auto& p : params) total_params += p.size();
  std::vector<float> all_params(total_params), all_grads(total_params);
  ctnn::Adam<>::rebind<float> adam;
  adam.resize(total_params);

  // Every part is timed on the wall clock and on the process CPU clock (robust to preemption
  // when single-threaded; with threads it adds up every thread's time, spinning included).
  struct Stamp {
    Clock::time_point wall = Clock::now();
    double cpu = cpu_seconds();
  };
  struct Times {
    std::vector<double> wall, cpu;
    void add(const Stamp& s) {
      wall.push_back(seconds_since(s.wall));
      cpu.push_back(cpu_seconds() - s.cpu);
    }
  };
  std::array<Times, L> fwd_t, bwd_t;
  Times loss_t, adam_t, step_t;
  const std::size_t steps = std::max<std::size_t>(o.min_steps, 1);
  for (std::size_t step = 0; step < o.warmup + steps; ++step) {
    const bool timed = step >= o.warmup;
    auto [x, labels] = feed.next();
    std::copy(x, x + act[0].size(), act[0].begin());
    const Stamp step_start;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (([&] {
         const Stamp t0;
         std::get<I>(stages).forward(act[I].data(), act[I + 1].data(), batch, ctnn::Mode::training, rng);
         if (timed) fwd_t[I].add(t0);
       }()), ...);
    }(std::make_index_sequence<L>{});
    const Stamp t_loss;
    ctnn::SoftmaxCrossEntropy::forward(act[L].data(), labels, batch, feed.classes, dact[L].data());
    if (timed) loss_t.add(t_loss);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (([&] {
         constexpr std::size_t J = L - 1 - I;
         const Stamp t1;
         std::get<J>(stages).backward(act[J].data(), act[J + 1].data(), dact[J + 1].data(),
                                      J == 0 ? nullptr : dact[J].data(), batch);
         if (timed) bwd_t[J].add(t1);
       }()), ...);
    }(std::make_index_sequence<L>{});
    // The Net keeps all parameters in one flat array; the optimizer sees one span, as here.
    const Stamp t_adam;
    adam.step(all_params, all_grads, 1e-3);
    if (timed) adam_t.add(t_adam);
    if (timed) step_t.add(step_start);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::vector<std::string> layer_names;
  [&]<class First, class... Layers>(ctnn::Net<First, Layers...>*) {
    layer_names = {Layers::name()...};
  }(static_cast<Model*>(nullptr));
  for (auto& name : layer_names) std::erase(name, ' ');  // one token per key=value field
  // Shares are of the sum of the parts' medians (the medians of different steps do not add up
  // to the median step exactly), on the CPU clock when single-threaded, else the wall clock.
  const bool by_cpu = o.threads == 1;
  auto pick = [&](const Times& t) { return median(by_cpu ? t.cpu : t.wall); };
  double total = pick(loss_t) + pick(adam_t);
  for (std::size_t i = 0; i < L; ++i) total += pick(fwd_t[i]) + pick(bwd_t[i]);
  auto flops_at = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<double, L>{layer_flops<typename Info::template layer_at<I>,
                                             typename Info::template shape_at<I>>::value...};
  }(std::make_index_sequence<L>{});
  const char* net = o.net.c_str();
  for (std::size_t i = 0; i < L; ++i) {
    const double f = pick(fwd_t[i]), b = pick(bwd_t[i]);
    const double bflops = flops_at[i] * (i == 0 ? 1.0 : 2.0);
    std::printf("LAYER impl=ctnn net=%s threads=%d batch=%zu index=%zu layer=%s forward_ms=%.3f "
                "backward_ms=%.3f forward_cpu_ms=%.3f backward_cpu_ms=%.3f share=%.1f%% "
                "forward_gflops=%.2f backward_gflops=%.2f clock=%s\n",
                net, o.threads, batch, i + 1, layer_names[i].c_str(), median(fwd_t[i].wall) * 1e3,
                median(bwd_t[i].wall) * 1e3, median(fwd_t[i].cpu) * 1e3, median(bwd_t[i].cpu) * 1e3,
                100.0 * (f + b) / total, f > 0 ? flops_at[i] * batch / f * 1e-9 : 0.0,
                b > 0 ? bflops * batch / b * 1e-9 : 0.0, by_cpu ? "cpu" : "wall");
  }
  auto part = [&](const char* index, const char* name, const Times& t) {
    std::printf("LAYER impl=ctnn net=%s threads=%d batch=%zu index=%s layer=%s forward_ms=%.3f "
                "backward_ms=0 forward_cpu_ms=%.3f backward_cpu_ms=0 share=%.1f%% clock=%s\n",
                net, o.threads, batch, index, name, median(t.wall) * 1e3, median(t.cpu) * 1e3,
                100.0 * pick(t) / total, by_cpu ? "cpu" : "wall");
  };
  part("loss", "SoftmaxCrossEntropy", loss_t);
  part("adam", "Adam", adam_t);
  std::printf("LAYER impl=ctnn net=%s threads=%d batch=%zu index=step layer=total step_ms=%.3f "
              "step_cpu_ms=%.3f sum_of_parts_ms=%.3f images_per_s=%.2f cpu_images_per_s=%.2f "
              "steps=%zu clock=%s\n",
              net, o.threads, batch, median(step_t.wall) * 1e3, median(step_t.cpu) * 1e3,
              total * 1e3, double(batch) / median(step_t.wall), double(batch) / median(step_t.cpu),
              steps, by_cpu ? "cpu" : "wall");
  return 0;
}

// ---- Measured FMA peak of one core ----------------------------------------------------------
// Chains independent accumulator chains (enough to cover latency x FMA units on current cores:
// Zen 3 and Skylake need 8), each a[i] = a[i] * x + y, distinct starting values so the compiler
// cannot merge them. Chains + 2 must fit the vector registers (AVX2 has 16: 12 chains; with 16
// the compiler spills and the loop measures store forwarding instead of the FMA units).
template <int Chains, class V, class Fma>
[[gnu::hot]] double fma_chains(long iterations, V seed, Fma fma, int lanes) {
  V x = seed, y = seed;
  V a[Chains];
  // Distinct starting values (each one FMA further on), or the compiler merges the chains.
  a[0] = seed;
  for (int i = 1; i < Chains; ++i) a[i] = fma(a[i - 1], x, y);
  const double t0 = cpu_seconds();
  for (long k = 0; k < iterations; ++k) {
#pragma GCC unroll 16
    for (int i = 0; i < Chains; ++i) a[i] = fma(a[i], x, y);
  }
  const double t = cpu_seconds() - t0;
  volatile float sink = 0;
  for (int i = 0; i < Chains; ++i) sink = sink + reinterpret_cast<const float*>(&a[i])[0];
  return 2.0 * lanes * Chains * double(iterations) / t * 1e-9;
}

// Not inlined, and hot: inlined into main, GCC put it in main's cold part (the early return of
// a rarely used mode), optimized for size, with every chain stored to the stack each step.
[[gnu::noinline, gnu::hot]] int measure_peak() {
  [[maybe_unused]] const long n = 100000000;
  double best = 0;
  const char* isa = "scalar";
  int lanes = 1;
#if defined(__AVX512F__)
  isa = "avx512", lanes = 16;
  for (int r = 0; r < 3; ++r) {
    alignas(64) float init[16];
    for (int i = 0; i < 16; ++i) init[i] = 0.999999f + 1e-7f * float(r + i);
    best = std::max(best, fma_chains<16>(n, _mm512_load_ps(init),
                                     [](__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }, 16));
  }
#elif defined(__AVX2__) && defined(__FMA__)
  isa = "avx2", lanes = 8;
  for (int r = 0; r < 3; ++r) {
    alignas(32) float init[8];
    for (int i = 0; i < 8; ++i) init[i] = 0.999999f + 1e-7f * float(r + i);
    best = std::max(best, fma_chains<12>(n, _mm256_load_ps(init),
                                     [](__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }, 8));
  }
#endif
  std::printf("PEAK isa=%s lanes=%d gflops_per_core=%.1f clock=cpu\n", isa, lanes, best);
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
#if defined(_OPENMP)
  omp_set_num_threads(o.threads);
#else
  if (o.threads != 1)
    std::printf("INFO impl=ctnn note=built_without_openmp_threads_ignored\n");
#endif
  if (o.mode == "peak") return measure_peak();
  if (o.net == "fashion") return run_net<examples::FashionMnistModel>(o, 64);
  return run_net<examples::Cnn384Model>(o, 8);
} catch (const std::exception& e) {
  std::cerr << "e2e_ctnn: " << e.what() << "\n";
  return 1;
}
