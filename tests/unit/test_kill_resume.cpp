// A training run killed with SIGKILL (a real child process) and resumed from its last checkpoint
// ends with bit-identical weights, buffers, generator states and history (except the seconds
// column) to a run that was never interrupted. One thread, fixed seeds, a tiny model with every
// kind of state: Adam moments, a ReduceOnPlateau schedule behind a warmup, weight decay, early
// stopping, Dropout (net.rng()), BatchNorm buffers and a shuffled data order.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include "ctnn/ctnn.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/trainer.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ctnn;

namespace {

// n samples of 1x4x4 in 3 classes: class c brightens row c.
data::Dataset make_data(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  data::Dataset::Images images(data::Dataset::Images::shape_type{n, 1, 4, 4});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % 3);
    labels[i] = c;
    for (std::size_t p = 0; p < 16; ++p)
      images.data()[i * 16 + p] = float(rng.uniform(0.0, 0.5)) + (p / 4 == std::size_t(c) ? 0.8f : 0.0f);
  }
  return data::Dataset(std::move(images), std::move(labels), 3);
}

// KillSwitch: a stopping rule that never stops, but SIGKILLs its own process in update() at the
// end of epoch `kill_at` (0-based), that is after that epoch's training and before its
// checkpoint: the last checkpoint on disk is then the one written after epoch kill_at - 1, and
// the work of epoch kill_at is lost, as in a real crash.
struct KillSwitch {
  static constexpr std::string_view kind = "stopping rule";
  struct Options {
    std::size_t kill_at = std::size_t(-1);
  };
  static std::string name() { return "KillSwitch"; }
  KillSwitch() = default;
  explicit KillSwitch(Options o) : options_(o) {}
  Options options() const { return options_; }
  StopDecision update(const EpochMetrics& m) {
    if (m.epoch == options_.kill_at) ::raise(SIGKILL);
    return StopDecision::keep_going();
  }
  StopDecision check_step(double) const { return StopDecision::keep_going(); }
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double>) {}

 private:
  Options options_;
};
static_assert(StoppingRule<KillSwitch>);

using Model = Net<Input<1, 4, 4>, Conv<4, 3>, BatchNorm, Relu, Flatten, Dense<8>, Relu, Dropout<0.25>, Dense<3>>;
using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<1, ReduceOnPlateau<0.5, 1>>, WeightDecay<1e-3>,
                      AnyOf<EarlyStopping<50>, KillSwitch>>;

constexpr std::size_t epochs = 8;

TrainConfig config(const fs::path& ckpt) {
  TrainConfig c;
  c.learning_rate = 0.03;
  c.batch_size = 8;
  c.max_epochs = epochs;
  c.seed = 17;
  c.verbose = 0;
  c.checkpoint_every = ckpt.empty() ? 0 : 1;
  c.checkpoint_path = ckpt.string();
  return c;
}

const data::Dataset& train_set() {
  static const data::Dataset d = make_data(48, 1);
  return d;
}
const data::Dataset& val_set() {
  static const data::Dataset d = make_data(15, 2);
  return d;
}

void single_thread() {
#if defined(_OPENMP)
  omp_set_num_threads(1);
#endif
}

// Forks a child that trains with checkpoints and is killed; returns its wait status.
// kill_at: the KillSwitch epoch (the child kills itself); -1: the parent kills it `delay` after
// the checkpoint file first appears.
int run_child(const fs::path& ckpt, std::size_t kill_at, std::chrono::microseconds delay = {}) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: train, and never return into Catch.
    try {
      single_thread();
      Train::PolicyOptions options;
      std::get<1>(options.stopping).kill_at = kill_at;
      Model net{7};
      Train(config(ckpt), options).fit(net, train_set(), val_set());
      ::_exit(0);
    } catch (...) {
      ::_exit(3);
    }
  }
  if (kill_at == std::size_t(-1)) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(ckpt) && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) REQUIRE(errno == EINTR);
  return status;
}

struct Reference {
  Model net{7};
  History history;
  Reference() {
    single_thread();
    history = Train(config({})).fit(net, train_set(), val_set());
  }
};
const Reference& reference() {
  static const Reference r;
  return r;
}

std::vector<float> values(std::span<const float> s) { return {s.begin(), s.end()}; }

void require_same_run(Model& resumed, const History& h) {
  const Reference& ref = reference();
  // Bit-identical: compare the float bit patterns, not values within a tolerance.
  const auto a = values(resumed.parameters()), b = values(ref.net.parameters());
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  const auto ab = values(resumed.buffers()), bb = values(ref.net.buffers());
  CHECK(std::memcmp(ab.data(), bb.data(), ab.size() * sizeof(float)) == 0);
  CHECK(resumed.rng().state() == const_cast<Model&>(ref.net).rng().state());
  REQUIRE(h.size() == ref.history.size());
  for (std::size_t e = 0; e < h.size(); ++e) {
    EpochRecord x = h.epochs()[e], y = ref.history.epochs()[e];
    x.seconds = y.seconds = 0;  // the one column allowed to differ
    CHECK(x == y);
  }
  CHECK(h.stop_reason() == ref.history.stop_reason());
  CHECK(h.best_epoch() == ref.history.best_epoch());
  CHECK(h.diverged() == ref.history.diverged());
}

}  // namespace

TEST_CASE("killed after epoch k (SIGKILL) and resumed: bit-identical to an uninterrupted run", "[checkpoint][kill]") {
  single_thread();
  REQUIRE(reference().history.size() == epochs);
  for (const std::size_t kill_at : {std::size_t(1), std::size_t(4), epochs - 1}) {
    INFO("killed in epoch " << kill_at + 1 << " (0-based " << kill_at << ")");
    TempDir dir;
    const auto ckpt = dir.path / "run.ckpt";
    const int status = run_child(ckpt, kill_at);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    REQUIRE(io::inspect_checkpoint(ckpt).next_epoch == kill_at);

    Model resumed{12345};  // other weights and rng: all of it must come from the checkpoint
    const History h = Train(config(ckpt)).resume(resumed, train_set(), val_set(), ckpt.string());
    require_same_run(resumed, h);
  }
}

TEST_CASE("killed at random moments by the parent and resumed: bit-identical every time", "[checkpoint][kill]") {
  single_thread();
  Rng rng(2024);
  for (int trial = 0; trial < 4; ++trial) {
    TempDir dir;
    const auto ckpt = dir.path / "run.ckpt";
    const auto delay = std::chrono::microseconds(rng.below(30000));
    INFO("trial " << trial << ", killed " << delay.count() << " us after the first checkpoint appeared");
    const int status = run_child(ckpt, std::size_t(-1), delay);
    // Killed, or (on a fast machine) already finished: either way the file on disk is complete.
    REQUIRE((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
    Model resumed{999};
    const History h = Train(config(ckpt)).resume(resumed, train_set(), val_set(), ckpt.string());
    require_same_run(resumed, h);
  }
}
