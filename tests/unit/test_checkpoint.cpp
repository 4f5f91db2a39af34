// train/checkpoint.hpp: what a checkpoint holds, resume, refusals (another architecture, other
// policies, other settings), damaged files (truncated, oversized claims, wrong magic, bit flips,
// crafted values behind a valid checksum) and failed writes (the old checkpoint survives).
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/checkpoint_format.hpp"
#include "ctnn/io/serialize.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/trainer.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ctnn;

namespace {

std::vector<std::byte> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}
void write_raw(const fs::path& p, std::span<const std::byte> bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// n samples of 1x4x4 in 3 classes: class c brightens row c. Learnable in a few epochs.
data::Dataset make_data(std::size_t n, std::uint64_t seed, int classes = 3) {
  Rng rng(seed);
  data::Dataset::Images images(data::Dataset::Images::shape_type{n, 1, 4, 4});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % static_cast<std::size_t>(classes));
    labels[i] = c;
    for (std::size_t p = 0; p < 16; ++p)
      images.data()[i * 16 + p] = float(rng.uniform(0.0, 0.5)) + (p / 4 == std::size_t(c) ? 0.8f : 0.0f);
  }
  return data::Dataset(std::move(images), std::move(labels), 3);
}

using Model = Net<Input<1, 4, 4>, Flatten, Dense<8>, Relu, Dropout<0.25>, Dense<3>>;
using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<1, ReduceOnPlateau<0.5, 0>>, WeightDecay<1e-3>,
                      EarlyStopping<50>>;

TrainConfig config(const fs::path& ckpt, std::size_t epochs = 3) {
  TrainConfig c;
  c.learning_rate = 0.02;
  c.batch_size = 8;
  c.max_epochs = epochs;
  c.seed = 5;
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

// A checkpoint after 3 epochs, made once.
struct Fixture {
  TempDir dir;
  fs::path ckpt = dir.path / "run.ckpt";
  Model net{11};
  History history;
  std::vector<std::byte> bytes;
  Fixture() {
    history = Train(config(ckpt)).fit(net, train_set(), val_set());
    bytes = read_all(ckpt);
  }
};
Fixture& fixture() {
  static Fixture f;
  return f;
}

// The message of the FileError `f` throws; fails the test when it throws nothing or another type.
std::string file_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const FileError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("expected ctnn::FileError, got another exception: " << e.what());
  } 
  FAIL("expected ctnn::FileError, nothing was thrown");
  return {};
}

std::vector<float> values(std::span<const float> s) { return {s.begin(), s.end()}; }

// Rewrites the archive's last 4 bytes as the CRC-32 of the others (a crafted, "valid" file).
void fix_crc(std::vector<std::byte>& b) {
  const std::uint32_t crc = io::crc32(std::span(b).first(b.size() - 4));
  for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = std::byte(crc >> (8 * i));
}

// Replaces section `name` of the checkpoint with `payload` (CRC recomputed by Archive).
std::vector<std::byte> with_section(const std::vector<std::byte>& bytes, const std::string& name,
                                    std::vector<std::byte> payload) {
  io::Archive a = io::Archive::from_bytes(bytes, "x");
  a.set(name, std::move(payload));
  return a.to_bytes();
}
std::vector<std::byte> section(const std::vector<std::byte>& bytes, const std::string& name) {
  const io::Archive a = io::Archive::from_bytes(bytes, "x");
  const auto s = a.get(name);
  return {s.begin(), s.end()};
}

}  // namespace

TEST_CASE("a checkpoint holds every piece of the run's state", "[checkpoint]") {
  auto& f = fixture();
  REQUIRE(f.history.size() == 3);
  Model probe{0};
  const auto c = read_checkpoint<Train>(f.bytes, f.ckpt.string(), probe);

  CHECK(c.info.model_signature == Model::signature());
  CHECK(c.info.optimizer == Adam<>::name());
  CHECK(c.info.schedule == "Warmup<1, ReduceOnPlateau<0.5, 0, 0.0001, 0, 0>>");
  CHECK(c.info.regularizer == WeightDecay<1e-3>::name());
  CHECK(c.info.stopping == EarlyStopping<50>::name());
  CHECK(c.info.loss == "SoftmaxCrossEntropy");
  CHECK(c.info.next_epoch == 3);
  CHECK(c.info.batch_size == 8);
  CHECK(c.info.train_size == 48);
  CHECK(c.info.validation_size == 15);
  CHECK(c.state.next_epoch == 3);
  // The last checkpoint is written after the last epoch, before fit() returns: same weights.
  CHECK(c.net.parameters == values(f.net.parameters()));
  CHECK(c.net_rng == f.net.rng().state());
  CHECK(c.optimizer_steps == 3 * 6);
  REQUIRE(c.optimizer_buffers.size() == 2);  // exp_avg, exp_avg_sq
  CHECK(std::any_of(c.optimizer_buffers[1].begin(), c.optimizer_buffers[1].end(), [](float v) { return v > 0; }));
  CHECK(c.schedule_state.size() == 6);  // Warmup: epochs done + ReduceOnPlateau's 5
  CHECK(c.schedule_state[0] == 3.0);
  CHECK(c.stopping_state.size() == 4);
  CHECK(c.order.size() == 48);
  CHECK(c.position == 48);
  CHECK(c.state.has_best);
  CHECK(c.state.best_parameters.size() == Model::parameter_count);
  REQUIRE(c.state.history.size() == 3);
  for (std::size_t e = 0; e < 3; ++e) CHECK(c.state.history.epochs()[e] == f.history.epochs()[e]);

  const auto info = io::inspect_checkpoint(f.ckpt);
  CHECK(info.next_epoch == 3);
  CHECK(info.optimizer == Adam<>::name());
}

TEST_CASE("checkpoints are written atomically: no temporary file is left behind", "[checkpoint]") {
  auto& f = fixture();
  CHECK(names_in(f.dir.path) == std::set<std::string>{"run.ckpt"});
  CHECK(f.bytes.size() > 100);
  CHECK(std::string(reinterpret_cast<const char*>(f.bytes.data()), 4) == "CTNA");
}

TEST_CASE("resume continues the run: a 3 + 2 epoch run equals a 5 epoch run", "[checkpoint]") {
  TempDir dir;
  const auto ckpt = dir.path / "a.ckpt";
  Model reference{11};
  const History full = Train(config({}, 5)).fit(reference, train_set(), val_set());

  Model first{11};
  auto cfg = config(ckpt, 5);
  // Stop after 3 epochs by keeping only the third checkpoint: run 5 epochs elsewhere, then
  // resume from a copy of the third epoch's checkpoint.
  cfg.checkpoint_every = 3;
  Train(cfg).fit(first, train_set(), val_set());
  Model resumed{99};  // other initial weights and rng: everything comes from the file
  const History h = Train(config({}, 5)).resume(resumed, train_set(), val_set(), ckpt.string());

  CHECK(values(resumed.parameters()) == values(reference.parameters()));
  CHECK(resumed.rng().state() == reference.rng().state());
  REQUIRE(h.size() == full.size());
  for (std::size_t e = 0; e < h.size(); ++e) {
    auto a = h.epochs()[e], b = full.epochs()[e];
    a.seconds = b.seconds = 0;
    CHECK(a == b);
  }
  CHECK(h.stop_reason() == full.stop_reason());
  CHECK(h.best_epoch() == full.best_epoch());
}

TEST_CASE("resume after the last epoch returns the finished history at once", "[checkpoint]") {
  auto& f = fixture();
  Model net{3};
  const History h = Train(config({})).resume(net, train_set(), val_set(), f.ckpt.string());
  CHECK(h.size() == 3);
  CHECK(h.stop_reason() == "reached max_epochs (3)");
  CHECK(values(net.parameters()) == values(f.net.parameters()));
}

TEST_CASE("resume refuses another architecture, other policies, other settings", "[checkpoint]") {
  auto& f = fixture();
  const std::string path = f.ckpt.string();

  SECTION("another architecture") {
    using Other = Net<Input<1, 4, 4>, Flatten, Dense<5>, Relu, Dense<3>>;
    Other net{1};
    const auto before = values(net.parameters());
    const std::string m = file_error([&] {
      Trainer<Other, SoftmaxCrossEntropy, Adam<>, Warmup<1, ReduceOnPlateau<0.5, 0>>, WeightDecay<1e-3>,
              EarlyStopping<50>>(config({}))
          .resume(net, train_set(), val_set(), path);
    });
    CHECK_THAT(m, Catch::StartsWith(path + "[meta]: expected a checkpoint of the architecture Input<1, 4, 4>|Flatten"));
    CHECK_THAT(m, Catch::Contains("Dense<5>") && Catch::Contains("(this Trainer's model), found Input<1, 4, 4>"));
    CHECK(values(net.parameters()) == before);
  }
  SECTION("another scalar type") {
    using Model64 = Model::rebind<double>;
    Model64 net{1};
    const std::string m = file_error([&] {
      Trainer<Model64, SoftmaxCrossEntropy, Adam<>, Warmup<1, ReduceOnPlateau<0.5, 0>>, WeightDecay<1e-3>,
              EarlyStopping<50>>(config({}))
          .resume(net, train_set(), val_set(), path);
    });
    CHECK(m == path + "[meta]: expected 8-byte scalars (this Trainer's model), found 4-byte scalars");
  }
  SECTION("another optimizer") {
    Model net{1};
    const std::string m = file_error([&] {
      Trainer<Model, SoftmaxCrossEntropy, Sgd<0.9>, Warmup<1, ReduceOnPlateau<0.5, 0>>, WeightDecay<1e-3>,
              EarlyStopping<50>>(config({}))
          .resume(net, train_set(), val_set(), path);
    });
    CHECK(m == path + "[meta]: expected the optimizer Sgd<0.9, false> (this Trainer's), found Adam<0.9, 0.999, "
                      "1e-08>: the checkpoint was written by a Trainer with other policies");
  }
  SECTION("another schedule, regularizer or stopping rule") {
    Model net{1};
    CHECK_THAT(file_error([&] {
                 Trainer<Model, SoftmaxCrossEntropy, Adam<>, Constant, WeightDecay<1e-3>, EarlyStopping<50>>(config({}))
                     .resume(net, train_set(), val_set(), path);
               }),
               Catch::Contains("expected the schedule Constant (this Trainer's), found Warmup<1, ReduceOnPlateau"));
    CHECK_THAT(file_error([&] {
                 Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<1, ReduceOnPlateau<0.5, 0>>, L2<1e-3>,
                         EarlyStopping<50>>(config({}))
                     .resume(net, train_set(), val_set(), path);
               }),
               Catch::Contains("expected the regularizer L2<0.001> (this Trainer's), found WeightDecay<0.001>"));
    CHECK_THAT(file_error([&] {
                 Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<1, ReduceOnPlateau<0.5, 0>>, WeightDecay<1e-3>,
                         EarlyStopping<5>>(config({}))
                     .resume(net, train_set(), val_set(), path);
               }),
               Catch::Contains("expected the stopping rule EarlyStopping<5, 0, val_loss> (this Trainer's), found "
                               "EarlyStopping<50, 0, val_loss>: the checkpoint was written by a Trainer with other "
                               "policies"));
  }
  SECTION("other settings and data") {
    Model net{1};
    auto cfg = config({});
    cfg.batch_size = 16;
    CHECK(file_error([&] { Train(cfg).resume(net, train_set(), val_set(), path); }) ==
          path + "[meta]: expected a run with batch_size 16 (this Trainer's), found batch_size 8: resume with the "
                 "settings the run was started with");
    cfg = config({});
    cfg.learning_rate = 0.5;
    CHECK_THAT(file_error([&] { Train(cfg).resume(net, train_set(), val_set(), path); }),
               Catch::Contains("expected a run with learning_rate 0.5 (this Trainer's), found learning_rate 0.02"));
    cfg = config({});
    cfg.shuffle = false;
    CHECK_THAT(file_error([&] { Train(cfg).resume(net, train_set(), val_set(), path); }),
               Catch::Contains("expected a run with shuffle false"));
    const auto other_train = make_data(40, 1);
    CHECK_THAT(file_error([&] { Train(config({})).resume(net, other_train, val_set(), path); }),
               Catch::Contains("expected a run with a training set of 40 samples (this Trainer's), found a training "
                               "set of 48 samples"));
    const auto other_val = make_data(12, 2);
    CHECK_THAT(file_error([&] { Train(config({})).resume(net, train_set(), other_val, path); }),
               Catch::Contains("a validation set of 12 samples"));
  }
  SECTION("other optimizer options (another state layout)") {
    // Sgd without momentum keeps no buffer; with momentum, one. Same name, other layout.
    using TrainSgd = Trainer<Model, SoftmaxCrossEntropy, Sgd<>, Constant>;
    TempDir dir;
    const auto p = dir.path / "sgd.ckpt";
    TrainSgd::PolicyOptions momentum;
    momentum.optimizer.momentum = 0.9;
    Model a{1};
    TrainSgd(config(p, 1), momentum).fit(a, train_set(), val_set());
    Model b{1};
    CHECK_THAT(file_error([&] { TrainSgd(config({}, 1)).resume(b, train_set(), val_set(), p.string()); }),
               Catch::Contains(p.string() + "[optimizer]: expected 0 state buffers (none, what Sgd<0, false> keeps "
                                            "with these options) at byte 8, found 1: the checkpoint was written with "
                                            "other optimizer options"));
  }
  SECTION("a weights file, a missing file, an empty path") {
    TempDir dir;
    const auto weights = dir.path / "model.ctnn";
    save(f.net, weights);
    Model net{1};
    CHECK(file_error([&] { Train(config({})).resume(net, train_set(), val_set(), weights.string()); }) ==
          weights.string() + ": expected a ctnn archive (magic \"CTNA\") at byte 0, found a ctnn weights file; load it "
                             "with ctnn::load");
    CHECK_THAT(file_error([&] { Train(config({})).resume(net, train_set(), val_set(), (dir.path / "no").string()); }),
               Catch::Contains("No such file or directory"));
    CHECK_THROWS_WITH(Train(config({})).resume(net, train_set(), val_set(), ""),
                      "Trainer::resume: the checkpoint path is empty");
  }
}

TEST_CASE("damaged checkpoints: a clear FileError, never a crash, the net untouched", "[checkpoint]") {
  auto& f = fixture();
  const auto& good = f.bytes;
  TempDir dir;
  const auto path = dir.path / "bad.ckpt";
  Model probe{0};
  auto parse = [&](const std::vector<std::byte>& b) { return read_checkpoint<Train>(b, path.string(), probe); };

  SECTION("truncated at every length") {
    for (std::size_t n = 0; n < good.size(); n += (n < 64 ? 1 : 7)) {
      const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
      const std::string m = file_error([&] { parse(cut); });
      CHECK_THAT(m, Catch::StartsWith(path.string() + ": expected "));
    }
    std::vector<std::byte> cut(good.begin(), good.end() - 1);
    CHECK(file_error([&] { parse(cut); }) ==
          path.string() + ": expected 4 more bytes for checksum at byte " + std::to_string(good.size() - 4) +
              ", found only 3 left");
  }
  SECTION("every bit flip in the first 64 bytes, and one per byte after, is caught") {
    for (std::size_t i = 0; i < good.size(); ++i)
      for (int bit = 0; bit < (i < 64 ? 8 : 1); ++bit) {
        auto b = good;
        b[i] ^= std::byte(1u << ((bit + i) % 8));
        const std::string m = file_error([&] { parse(b); });
        CHECK_THAT(m, Catch::StartsWith(path.string() + ": expected "));
      }
    auto b = good;
    b[good.size() / 2] ^= std::byte{0x04};
    CHECK_THAT(file_error([&] { parse(b); }), Catch::EndsWith("checksum mismatch, the file is corrupted"));
  }
  SECTION("wrong magic") {
    auto b = good;
    std::memcpy(b.data(), "PK\x03\x04", 4);
    CHECK(file_error([&] { parse(b); }) == path.string() +
                                               ": expected a ctnn archive (magic \"CTNA\") at byte 0, found magic "
                                               "\"PK??\" (0x50 0x4b 0x03 0x04): not a ctnn file");
  }
  SECTION("a file larger than any checkpoint of this trainer is refused before it is read") {
    auto b = good;
    b.resize(b.size() + (std::size_t(1) << 23), std::byte{0});  // 8 MiB: above the bound (about 4.8 MB)
    write_raw(path, b);
    Model net{1};
    CHECK_THAT(file_error([&] { Train(config({})).resume(net, train_set(), val_set(), path.string()); }),
               Catch::StartsWith(path.string() + ": expected a checkpoint of at most ") &&
                   Catch::Contains("a checkpoint of another (larger) model, or not a checkpoint"));
  }
  SECTION("headers claiming 10^12 items, behind a valid checksum") {
    const std::uint64_t huge = 1000000000000ULL;
    auto put = [](std::vector<std::byte>& b, std::size_t at, std::uint64_t v) { std::memcpy(b.data() + at, &v, 8); };
    auto b = good;
    put(b, 8, huge);  // archive section count
    fix_crc(b);
    CHECK(file_error([&] { parse(b); }) ==
          path.string() + ": expected 1000000000000 section (at least 17 bytes each) at byte 8, found only " +
              std::to_string(good.size() - 16) + " bytes left");
    b = good;
    put(b, 16 + 8 + 4, huge);  // the first section's (meta) payload length
    fix_crc(b);
    CHECK_THAT(file_error([&] { parse(b); }),
               Catch::Contains("expected 1000000000000 more bytes for section \"meta\" at byte 36"));
    // Inside sections: optimizer buffer size, sample count, history epochs, state values.
    auto opt = section(good, "optimizer");
    put(opt, 8 + 8 + 8 + 7, huge);  // step count, buffer count, "exp_avg" string, size
    CHECK(file_error([&] { parse(with_section(good, "optimizer", opt)); }) ==
          path.string() + "[optimizer]: expected " + std::to_string(Model::parameter_count) +
              " values in exp_avg (one per parameter) at byte 31, found 1000000000000");
    auto batches = section(good, "batches");
    put(batches, 0, huge);
    CHECK(file_error([&] { parse(with_section(good, "batches", batches)); }) ==
          path.string() + "[batches]: expected 1000000000000 sample index (at least 8 bytes each) at byte 0, found "
                          "only " + std::to_string(batches.size() - 8) + " bytes left");
    auto history = section(good, "history");
    put(history, 4, huge);
    CHECK_THAT(file_error([&] { parse(with_section(good, "history", history)); }),
               Catch::StartsWith(path.string() + "[history]: expected 1000000000000 epoch record"));
    auto schedule = section(good, "schedule");
    put(schedule, 0, huge);
    CHECK(file_error([&] { parse(with_section(good, "schedule", schedule)); }) ==
          path.string() + "[schedule]: expected at most 65536 schedule state value at byte 0, found 1000000000000");
  }
  SECTION("crafted values behind a valid checksum") {
    auto batches = section(good, "batches");
    std::memcpy(batches.data() + 8, batches.data() + 16, 8);  // an index twice
    CHECK_THAT(file_error([&] { parse(with_section(good, "batches", batches)); }),
               Catch::Contains("[batches]: expected a permutation of the sample indices 0..47 at byte 16, found index"));
    auto rng = section(good, "net_rng");
    std::fill(rng.begin(), rng.end(), std::byte{0});
    CHECK(file_error([&] { parse(with_section(good, "net_rng", rng)); }) ==
          path.string() + "[net_rng]: expected a random generator state with a non-zero word at byte 0, found all "
                          "four words zero");
    auto schedule = section(good, "schedule");
    const double half = 2.5;  // Warmup's epochs-done count
    std::memcpy(schedule.data() + 8, &half, 8);
    CHECK(file_error([&] { parse(with_section(good, "schedule", schedule)); }) ==
          path.string() + "[schedule]: expected a whole number in [0, 2^53] for schedule state value 0 (a count " +
              Warmup<1, ReduceOnPlateau<0.5, 0>>::name() + " keeps), found 0x4004000000000000 (2.500000)");
    // Values that would be undefined behaviour to convert to a count (the policies static_cast
    // them) are refused before the policy sees them.
    auto stopping = section(good, "stopping");
    const double nan = std::numeric_limits<double>::quiet_NaN(), minus_one = -1.0, huge = 1e300;
    std::memcpy(stopping.data() + 8 + 8, &nan, 8);  // EarlyStopping's best epoch
    CHECK(file_error([&] { parse(with_section(good, "stopping", stopping)); }) ==
          path.string() + "[stopping]: expected a whole number in [0, 2^53] for stopping rule state value 1 (a count "
                          "EarlyStopping<50, 0, val_loss> keeps), found 0x7ff8000000000000 (nan)");
    stopping = section(good, "stopping");
    std::memcpy(stopping.data() + 8 + 16, &minus_one, 8);  // its bad-epoch count
    CHECK_THAT(file_error([&] { parse(with_section(good, "stopping", stopping)); }),
               Catch::EndsWith("state value 2 (a count EarlyStopping<50, 0, val_loss> keeps), found 0xbff0000000000000 "
                               "(-1.000000)"));
    schedule = section(good, "schedule");
    std::memcpy(schedule.data() + 8 + 8 * 3, &huge, 8);  // ReduceOnPlateau's bad-epoch count
    CHECK_THAT(file_error([&] { parse(with_section(good, "schedule", schedule)); }),
               Catch::Contains("for schedule state value 3 (a count "));
    // A policy's plain numbers (ReduceOnPlateau's factor and best loss) may be anything it can hold.
    schedule = section(good, "schedule");
    const double factor = 0.25;
    std::memcpy(schedule.data() + 8 + 8, &factor, 8);
    CHECK_NOTHROW(parse(with_section(good, "schedule", schedule)));
    auto best = section(good, "best");
    const std::uint64_t late = 7;
    std::memcpy(best.data() + 1, &late, 8);
    CHECK(file_error([&] { parse(with_section(good, "best", best)); }) ==
          path.string() + "[best]: expected a best epoch below the next epoch (3) at byte 1, found 7");
    auto net = section(good, "net");
    net.push_back(std::byte{1});
    CHECK(file_error([&] { parse(with_section(good, "net", net)); }) ==
          path.string() + "[net]: expected end of the net section at byte " + std::to_string(net.size() - 1) +
              ", found 1 trailing bytes");
    io::Archive a = io::Archive::from_bytes(good, "x");
    io::Archive missing;
    for (const auto& s : a.sections())
      if (s.name != "optimizer") missing.set(s.name, s.data);
    CHECK_THAT(file_error([&] { parse(missing.to_bytes()); }),
               Catch::Contains(": expected a section named \"optimizer\", found sections meta, net, net_rng"));
  }
  SECTION("resume from a damaged file leaves the net as it was") {
    auto b = good;
    b[b.size() / 3] ^= std::byte{0x80};
    write_raw(path, b);
    Model net{1};
    const auto before = values(net.parameters());
    const auto rng_before = net.rng().state();
    CHECK_THAT(file_error([&] { Train(config({})).resume(net, train_set(), val_set(), path.string()); }),
               Catch::Contains("checksum mismatch"));
    CHECK(values(net.parameters()) == before);
    CHECK(net.rng().state() == rng_before);
  }
}

TEST_CASE("a failed checkpoint write stops fit with a FileError and keeps the old checkpoint", "[checkpoint]") {
  TempDir dir;
  SECTION("unwritable location") {
    Model net{1};
    const auto bad = dir.path / "missing-dir" / "run.ckpt";
    const std::string m = file_error([&] { Train(config(bad)).fit(net, train_set(), val_set()); });
    CHECK_THAT(m, Catch::StartsWith(bad.string() + ": expected creating temporary file"));
    CHECK_THAT(m, Catch::Contains("No such file or directory"));
  }
  SECTION("file size limit (EFBIG, as on a full disk)") {
    const auto ckpt = dir.path / "run.ckpt";
    Model first{1};
    Train(config(ckpt, 1)).fit(first, train_set(), val_set());
    const auto old = read_all(ckpt);

    rlimit old_limit{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old_limit;
    small.rlim_cur = old.size() / 2;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string m;
    Model second{2};
    try {
      Train(config(ckpt, 2)).fit(second, train_set(), val_set());
    } catch (const FileError& e) {
      m = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    ::signal(SIGXFSZ, old_handler);

    CHECK_THAT(m, Catch::StartsWith(ckpt.string() + ": expected writing ") && Catch::Contains("File too large"));
    CHECK(read_all(ckpt) == old);
    CHECK(names_in(dir.path) == std::set<std::string>{"run.ckpt"});
    Model resumed{3};
    CHECK(Train(config({}, 2)).resume(resumed, train_set(), val_set(), ckpt.string()).size() == 2);
  }
}
