#pragma once
// The parts of the checkpoint format that do not depend on the trainer's types: section names,
// the "meta" section (who wrote the checkpoint and with which settings), and the small encodings
// shared by the other sections. train/checkpoint.hpp builds checkpoints from these; the
// byte-by-byte layout is in docs/reliability.md.
//
//   auto info = ctnn::io::inspect_checkpoint("run.ckpt");   // no trainer type needed
//   info.next_epoch; info.optimizer; info.model_signature;  ...
//
// Reader contract (as for every ctnn reader): every length and count is checked against the
// bytes that remain before anything is allocated, every problem is a ctnn::FileError naming
// "<file>[<section>]", the byte offset, what was expected and what was found.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "ctnn/error.hpp"
#include "ctnn/io/binary.hpp"
#include "ctnn/io/serialize.hpp"
#include "ctnn/random.hpp"

namespace ctnn::io {

inline constexpr std::uint32_t checkpoint_format_version = 1;

// Section names of a checkpoint archive, in the order they are written.
namespace checkpoint_sections {
inline constexpr const char* meta = "meta";            // CheckpointInfo
inline constexpr const char* net = "net";              // net record (current weights and buffers)
inline constexpr const char* net_rng = "net_rng";      // net.rng() state (Dropout)
inline constexpr const char* shuffle_rng = "shuffle_rng";  // the trainer's shuffling Rng
inline constexpr const char* optimizer = "optimizer";  // step count, named state buffers
inline constexpr const char* schedule = "schedule";    // schedule.state()
inline constexpr const char* stopping = "stopping";    // stopping rule's state()
inline constexpr const char* batches = "batches";      // data order and position
inline constexpr const char* best = "best";            // best epoch and its weights
inline constexpr const char* history = "history";      // History::to_bytes()
}  // namespace checkpoint_sections

// Longest architecture signature and policy name a checkpoint may carry.
inline constexpr std::uint64_t max_signature_bytes = 1 << 20;
inline constexpr std::uint64_t max_policy_name_bytes = 1 << 16;
// Most values a schedule's or a stopping rule's state() may hold in a checkpoint.
inline constexpr std::uint64_t max_policy_state_values = 1 << 16;

// The "meta" section: what wrote the checkpoint, the settings that must match on resume, and
// where the run is.
struct CheckpointInfo {
  std::uint32_t format_version = checkpoint_format_version;
  std::string model_signature;  // Net::signature()
  std::uint32_t scalar_bytes = 4;  // 4 float, 8 double
  std::string loss, optimizer, schedule, regularizer, stopping;  // policy name() strings
  double learning_rate = 0;
  std::uint64_t batch_size = 0, max_epochs = 0, seed = 0;
  bool shuffle = true;
  std::uint64_t train_size = 0, validation_size = 0;  // samples
  std::uint64_t sample_size = 0;                      // floats per training sample
  std::uint64_t next_epoch = 0;                       // 0-based epoch to run next
};

inline void write_checkpoint_info(BinaryWriter& w, const CheckpointInfo& i) {
  w.u32(i.format_version);
  w.string(i.model_signature);
  w.u32(i.scalar_bytes);
  for (const std::string* s : {&i.loss, &i.optimizer, &i.schedule, &i.regularizer, &i.stopping}) w.string(*s);
  w.f64(i.learning_rate);
  w.u64(i.batch_size);
  w.u64(i.max_epochs);
  w.u64(i.seed);
  w.u8(i.shuffle ? 1 : 0);
  w.u64(i.train_size);
  w.u64(i.validation_size);
  w.u64(i.sample_size);
  w.u64(i.next_epoch);
}

inline CheckpointInfo read_checkpoint_info(BinaryReader& r) {
  CheckpointInfo i;
  i.format_version = r.u32("checkpoint format version");
  if (i.format_version != checkpoint_format_version)
    r.fail_at(0, "checkpoint format version " + std::to_string(checkpoint_format_version),
              "version " + std::to_string(i.format_version) +
                  (i.format_version > checkpoint_format_version ? " (written by a newer ctnn)" : ""));
  i.model_signature = r.string("architecture signature", max_signature_bytes);
  const std::size_t width_at = r.position();
  i.scalar_bytes = r.u32("scalar width");
  if (i.scalar_bytes != 4 && i.scalar_bytes != 8)
    r.fail_at(width_at, "a scalar width of 4 (float) or 8 (double) bytes", std::to_string(i.scalar_bytes));
  i.loss = r.string("loss name", max_policy_name_bytes);
  i.optimizer = r.string("optimizer name", max_policy_name_bytes);
  i.schedule = r.string("schedule name", max_policy_name_bytes);
  i.regularizer = r.string("regularizer name", max_policy_name_bytes);
  i.stopping = r.string("stopping rule name", max_policy_name_bytes);
  i.learning_rate = r.f64("learning rate");
  i.batch_size = r.u64("batch size");
  i.max_epochs = r.u64("max epochs");
  i.seed = r.u64("seed");
  const std::size_t shuffle_at = r.position();
  const std::uint8_t shuffle = r.u8("shuffle flag");
  if (shuffle > 1) r.fail_at(shuffle_at, "shuffle flag 0 or 1", std::to_string(shuffle));
  i.shuffle = shuffle == 1;
  i.train_size = r.u64("training set size");
  i.validation_size = r.u64("validation set size");
  i.sample_size = r.u64("sample size");
  i.next_epoch = r.u64("next epoch");
  r.expect_end("end of the meta section");
  return i;
}

// An Rng state: 4 x u64. The all-zero state is refused: xoshiro256** never leaves it.
inline void write_rng_state(BinaryWriter& w, const Rng::State& s) {
  for (const std::uint64_t word : s) w.u64(word);
}
inline Rng::State read_rng_state(BinaryReader& r) {
  Rng::State s{};
  for (auto& word : s) word = r.u64("random generator state word");
  if (s == Rng::State{}) r.fail_at(0, "a random generator state with a non-zero word", "all four words zero");
  return s;
}

// A list of doubles (a policy's state()): u64 count, then the values. `expected` is the count
// the reading policy (`owner`, a name such as "ReduceOnPlateau<...>", of kind "schedule" or
// "stopping rule") has; a different count is refused before anything is allocated.
inline void write_doubles(BinaryWriter& w, std::span<const double> v) {
  w.u64(v.size());
  w.values(v);
}
inline std::vector<double> read_doubles(BinaryReader& r, const std::string& kind, std::uint64_t expected,
                                        const std::string& owner) {
  const std::size_t at = r.position();
  const std::uint64_t n = r.count(kind + " state value", 8, max_policy_state_values);
  if (n != expected)
    r.fail_at(at, std::to_string(expected) + " " + kind + " state values (what " + owner + " saves)",
              std::to_string(n) + ": the checkpoint was written with another " + kind + " configuration");
  std::vector<double> out(static_cast<std::size_t>(n));
  r.values(std::span<double>(out), kind + " state values");
  return out;
}

// The meta section of a checkpoint held in memory (the archive's structure and checksum are
// checked first). Works without knowing the trainer's types.
inline CheckpointInfo checkpoint_info_from_bytes(std::span<const std::byte> bytes, const std::string& path) {
  const Archive a = Archive::from_bytes(bytes, path);
  BinaryReader r = a.reader(checkpoint_sections::meta);
  return read_checkpoint_info(r);
}

// Reads the meta section of a checkpoint file of at most max_bytes bytes.
inline CheckpointInfo inspect_checkpoint(const std::filesystem::path& path,
                                         std::size_t max_bytes = std::size_t{1} << 32) {
  const Archive a = Archive::load(path, max_bytes);
  BinaryReader r = a.reader(checkpoint_sections::meta);
  return read_checkpoint_info(r);
}

}  // namespace ctnn::io
