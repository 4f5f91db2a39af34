// End-to-end benchmark of the Fashion-MNIST CNN in tiny-dnn (Debian package tiny-dnn, header-only),
// for comparison with bench/e2e_ctnn.cpp and bench/e2e_torch.py.
//
//   e2e_tinydnn --mode train|infer [--threads N] [--warmup N] [--min-steps N] [--window S]
//               [--windows R] [--max-seconds S] [--limit N] [--data DIR]
//
// Net: conv 3x3 32 + relu, max_pool 2, conv 3x3 64 + relu, max_pool 2, fc 128 + relu,
// dropout 0.5, fc 10 + softmax; cross_entropy_multiclass; adam (lr 1e-3); batch 64. tiny-dnn fuses
// the activation into the layer and needs softmax + multiclass cross entropy where ctnn and
// PyTorch use logits + SoftmaxCrossEntropy: the same arithmetic up to a few flops.
//
// Build: g++ -std=c++17 -O3 -march=native -fopenmp -DCNN_USE_OMP -DCNN_USE_AVX ... -lz
// The Debian tiny-dnn config.h enables neither OpenMP, TBB, SSE nor AVX: without CNN_USE_OMP its
// parallel_for starts std::thread::hardware_concurrency() std::async tasks per parallel loop, so
// the thread count cannot be set. Built with CNN_USE_OMP (as bench/run does) its loops are
// `omp parallel for` and omp_set_num_threads(N) applies. CNN_USE_AVX selects its AVX backend, which
// has a hand-written path for 5x5 convolutions only (3x3 falls back to the generic loops) and AVX
// fully connected / max-pool kernels.
// Training parallelises over the samples of a batch (each worker runs whole samples); inference
// uses network::predict(std::vector<tensor_t>) on a batch of 64, parallel the same way.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

// The Debian package's headers include "third_party/stb/..." (libstb-dev installs them as
// <stb/...>; bench/run adds a shim include directory), cereal (libcereal-dev) and gemmlowp
// (libgemmlowp-dev), none of which it depends on.
#include <tiny_dnn/tiny_dnn.h>

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
double cpu_seconds() {  // the whole process, all threads
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Options {
  std::string mode = "train";
  int threads = 1;
  std::size_t warmup = 2, min_steps = 3, windows = 3, limit = 10000;
  double window = 1.0, max_seconds = 60.0;
  std::string data = "/usr/share/datasets/fashion-mnist";
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "e2e_tinydnn: %s\nusage: e2e_tinydnn --mode train|infer [--threads N] [--warmup N]"
               " [--min-steps N] [--window S] [--windows R] [--max-seconds S] [--limit N] [--data DIR]\n",
               why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* d = std::getenv("CTNN_FASHION_MNIST"); d && *d) o.data = d;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--mode") o.mode = value();
    else if (a == "--net") { if (value() != "fashion") usage("only --net fashion is implemented"); }
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
  if (o.mode != "train" && o.mode != "infer") usage("--mode must be train or infer");
  if (o.threads < 1 || o.windows < 1 || o.min_steps < 1) usage("counts must be >= 1");
  return o;
}

// An IDX file, gzipped or not (zlib reads both): its dimensions and bytes.
std::vector<unsigned char> read_idx(const std::string& dir, const std::string& name,
                                    std::vector<std::size_t>& dims) {
  std::string path = dir + "/" + name + ".gz";
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    path = dir + "/" + name;
    f = gzopen(path.c_str(), "rb");
  }
  if (!f) {
    std::fprintf(stderr, "e2e_tinydnn: cannot open %s/%s(.gz)\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
  unsigned char header[4];
  if (gzread(f, header, 4) != 4 || header[2] != 0x08) {
    std::fprintf(stderr, "e2e_tinydnn: %s is not a ubyte IDX file\n", path.c_str());
    std::exit(1);
  }
  dims.assign(header[3], 0);
  std::size_t count = 1;
  for (auto& d : dims) {
    unsigned char b[4];
    gzread(f, b, 4);
    d = (std::size_t(b[0]) << 24) | (std::size_t(b[1]) << 16) | (std::size_t(b[2]) << 8) | b[3];
    count *= d;
  }
  std::vector<unsigned char> bytes(count);
  if (gzread(f, bytes.data(), unsigned(count)) != int(count)) {
    std::fprintf(stderr, "e2e_tinydnn: %s is truncated\n", path.c_str());
    std::exit(1);
  }
  gzclose(f);
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tiny_dnn;
  using namespace tiny_dnn::activation;
  const Options o = parse(argc, argv);
#if defined(CNN_USE_OMP) && defined(_OPENMP)
  omp_set_num_threads(o.threads);
  const char* threading = "openmp";
#else
  const char* threading = "std_async_hardware_concurrency";  // --threads cannot be honoured
#endif
  constexpr std::size_t batch = 64;

  std::vector<std::size_t> image_dims, label_dims;
  const auto image_bytes = read_idx(o.data, "train-images-idx3-ubyte", image_dims);
  const auto label_bytes = read_idx(o.data, "train-labels-idx1-ubyte", label_dims);
  const std::size_t n = std::min(o.limit, label_dims[0]), pixels = 28 * 28;
  std::vector<vec_t> images(n, vec_t(pixels));
  std::vector<label_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t p = 0; p < pixels; ++p) images[i][p] = float_t(image_bytes[i * pixels + p]) / 255;
    labels[i] = label_bytes[i];
  }

  network<sequential> nn;
  nn << convolutional_layer<relu>(28, 28, 3, 1, 32)      // (32,26,26)
     << max_pooling_layer<identity>(26, 26, 32, 2)       // (32,13,13)
     << convolutional_layer<relu>(13, 13, 3, 32, 64)     // (64,11,11)
     << max_pooling_layer<identity>(11, 11, 64, 2)       // (64,5,5)
     << fully_connected_layer<relu>(64 * 5 * 5, 128)
     << dropout_layer(128, float_t(0.5))
     << fully_connected_layer<softmax>(128, 10);
  adam optimizer;  // alpha 1e-3, b1 0.9, b2 0.999, eps 1e-8
  std::size_t parameters = 0;
  for (std::size_t i = 0; i < nn.depth(); ++i)
    for (auto* w : nn[i]->weights()) parameters += w->size();
  const double fwd = 2.0 * (32 * 1 * 9 * 26 * 26 + 64 * 32 * 9 * 11 * 11 + 1600 * 128 + 128 * 10);
  const double train = 3 * fwd - 2.0 * 32 * 1 * 9 * 26 * 26;
#ifdef CNN_USE_AVX
  const char* backend = "avx";
#else
  const char* backend = "internal";
#endif
  std::printf("INFO impl=tinydnn net=fashion params=%zu flops_forward_per_image=%.6g "
              "flops_train_per_image=%.6g threading=%s backend=%s\n",
              parameters, fwd, train, threading, backend);

  // Shuffled order, redrawn each epoch; batches are gathered into contiguous vectors.
  std::mt19937 rng(7);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t position = 0;
  std::vector<vec_t> xb(batch);
  std::vector<label_t> yb(batch);
  std::vector<tensor_t> xt(batch, tensor_t(1));
  auto next_batch = [&] {
    if (position + batch > n) {
      std::shuffle(order.begin(), order.end(), rng);
      position = 0;
    }
    for (std::size_t i = 0; i < batch; ++i) {
      xb[i] = images[order[position + i]];
      yb[i] = labels[order[position + i]];
      xt[i][0] = xb[i];
    }
    position += batch;
  };

  const bool training = o.mode == "train";
  bool first = true;
  double value = 0;
  auto step = [&] {
    next_batch();
    if (training) {
      // One fit over exactly one batch = one optimizer step (fit resets the Adam moments on each
      // call, which costs a fill of 2 x params floats; the first call initialises the weights).
      nn.fit<cross_entropy_multiclass>(optimizer, xb, yb, batch, 1, nop, nop, first, CNN_TASK_SIZE);
      first = false;
      value = 0;
    } else {
      nn.set_netphase(net_phase::test);
      const auto out = nn.predict(xt);
      value = out[0][0][0];
    }
  };
  if (!training) nn.init_weight();

  for (std::size_t i = 0; i < o.warmup; ++i) step();
  std::vector<double> rates;
  std::size_t steps = 0;
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  for (std::size_t w = 0; w < o.windows; ++w) {
    if (w > 0 && seconds_since(start) > o.max_seconds) break;
    const auto begin = Clock::now();
    std::size_t k = 0;
    while (k < o.min_steps || seconds_since(begin) < o.window) {
      step();
      ++k;
      if (w > 0 && seconds_since(start) > o.max_seconds) break;
    }
    rates.push_back(double(k * batch) / seconds_since(begin));
    steps += k;
  }
  const double seconds = seconds_since(start);
  const double cpu_rate = double(steps * batch) / (cpu_seconds() - cpu_start);
  if (training) {  // loss on the last batch, as a sanity check that it learns
    nn.set_netphase(net_phase::test);
    double loss = 0;
    for (std::size_t i = 0; i < batch; ++i) loss -= std::log(std::max(1e-12, double(nn.predict(xb[i])[yb[i]])));
    value = loss / batch;
  }
  std::sort(rates.begin(), rates.end());
  std::printf("RESULT impl=tinydnn net=fashion mode=%s threads=%d batch=%zu images_per_s=%.2f "
              "median_images_per_s=%.2f cpu_images_per_s=%.2f gflops=%.2f steps=%zu windows=%zu "
              "seconds=%.2f %s=%.4f threading=%s\n",
              o.mode.c_str(), o.threads, batch, rates.back(), rates[rates.size() / 2], cpu_rate,
              rates.back() * (training ? train : fwd) * 1e-9, steps, rates.size(), seconds,
              training ? "loss" : "logit0", value, threading);
  return 0;
}
