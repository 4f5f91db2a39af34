#pragma once
// Checkpoints of a training run, and resuming from them.
//
//   TrainConfig cfg{.max_epochs = 30, .checkpoint_every = 1, .checkpoint_path = "run.ckpt"};
//   Train trainer(cfg);
//   trainer.fit(net, train, val);              // writes run.ckpt after every epoch (atomically)
//   ... the process dies ...
//   Model net2{42};
//   History h = trainer.resume(net2, train, val, "run.ckpt");   // continues where it stopped
//
// A checkpoint is an io::Archive (magic "CTNA", named sections, CRC-32) holding everything the
// epoch loop needs to go on exactly as if it had never stopped: the weights and buffers, the
// optimizer's step count and state buffers, the schedule's and the stopping rule's state(), both
// random generators (the trainer's shuffling Rng and net.rng(), which Dropout draws from), the
// data order and position, the best epoch with its weights, and the history so far. With one
// thread and the same data, a resumed run ends with bit-identical weights and history (except
// the seconds column) to an uninterrupted one (tests/unit/test_kill_resume.cpp).
//
// Contract of Trainer::resume(net, train, validation, path)
//   requires: a checkpoint written by a Trainer of the same type (same model architecture and
//             scalar type, same loss and policy names, the same optimizer state layout) over a
//             training set and a validation set of the sizes it was written for, with the same
//             learning_rate, batch_size and shuffle. max_epochs may differ (to train longer).
//   ensures:  the settings are checked first (as fit() does), then the whole file is read and
//             checked, and only then is anything applied to `net`: on any error (ConfigError for a
//             setting, FileError for the file) the net is unchanged. A FileError names the file and
//             section ("run.ckpt[optimizer]"), the byte offset, what was expected and what was
//             found. No allocation is sized by a number read from the file before that number
//             was checked against the bytes present and the sizes this Trainer's types imply.
//
// Contract of the writer (Trainer::fit with checkpoint_every > 0)
//   ensures:  every checkpoint_every epochs the file is replaced atomically (io::AtomicFile): a
//             reader or a crash sees the previous checkpoint or the new one, never a mixture; a
//             failure (unwritable directory, full disk) throws the FileError out of fit() and
//             leaves the previous checkpoint intact, so the run can be resumed from it.
// The format is documented byte by byte in docs/reliability.md.
#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/error.hpp"
#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/binary.hpp"
#include "ctnn/io/checkpoint_format.hpp"
#include "ctnn/io/serialize.hpp"
#include "ctnn/random.hpp"
#include "ctnn/train/history.hpp"
#include "ctnn/train/trainer.hpp"

namespace ctnn {

// Everything a checkpoint holds, read and checked against a Trainer type but not yet applied.
template <class TrainerT>
struct CheckpointContents {
  using scalar_type = typename TrainerT::scalar_type;
  io::CheckpointInfo info;                              // the meta section
  io::NetValues<scalar_type> net;                       // current parameters and buffers
  Rng::State net_rng{}, shuffle_rng{};
  std::uint64_t optimizer_steps = 0;
  std::vector<std::vector<scalar_type>> optimizer_buffers;  // in the order of state_names()
  std::vector<double> schedule_state, stopping_state;
  std::vector<std::size_t> order;                       // the epoch's sample order
  std::size_t position = 0;                             // samples of it already used
  typename TrainerT::State state;                       // next_epoch, best weights, history
};

// CheckpointAccess<Trainer<...>>: reads, writes and applies checkpoints; a friend of Trainer.
template <class TrainerT>
struct CheckpointAccess;

namespace detail::checkpoint {

template <class L>
std::string loss_name() {
  if constexpr (requires { { L::name() } -> std::convertible_to<std::string>; })
    return L::name();
  else
    return "<a loss without name()>";
}

inline std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out.empty() ? "none" : out;
}

inline bool same_bits(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) return false;
  return true;
}

// Hands `saved` to a fresh policy and checks it: a policy may refuse it (ConfigError), and what
// the policy keeps must read back unchanged (a count saved as 2.5 does not), so a crafted file
// cannot leave a policy in a state it could never reach. `path` names the section.
// Policies keep counts as integers and convert the saved doubles with static_cast, which is
// undefined behaviour for NaN, negative or huge values. So the values the policy keeps as whole
// numbers are found first, without risk: starting from the fresh policy's own state, each value
// in turn is raised by 0.5; one that does not read back is a count (or a flag), and the saved
// value there must be a whole number in [0, 2^53] before the policy sees it.
template <class Policy, class Options>
void check_policy_state(const Options& options, const std::vector<double>& saved, const std::string& path,
                        const std::string& kind) {
  const std::vector<double> base = Policy(options).state();
  for (std::size_t i = 0; i < base.size() && i < saved.size(); ++i) {
    Policy probe(options);
    std::vector<double> v = base;
    v[i] = base[i] + 0.5;
    bool whole;
    try {
      probe.set_state(v);
      const std::vector<double> back = probe.state();
      whole = back.size() != v.size() || std::bit_cast<std::uint64_t>(back[i]) != std::bit_cast<std::uint64_t>(v[i]);
    } catch (const Error&) {
      whole = true;  // refuses a fraction there
    }
    const double x = saved[i];
    if (whole && !(x >= 0.0 && x <= 9007199254740992.0 && x == static_cast<double>(static_cast<std::uint64_t>(x))))
      throw FileError(path, "a whole number in [0, 2^53] for " + kind + " state value " + std::to_string(i) + " (a count " +
                                Policy::name() + " keeps)",
                      io::detail::hex(std::bit_cast<std::uint64_t>(x), 16) + " (" + std::to_string(x) + ")");
  }
  Policy fresh(options);
  try {
    fresh.set_state(saved);
  } catch (const Error& e) {
    throw FileError(path, "a " + kind + " state that " + Policy::name() + " accepts", e.what());
  }
  const std::vector<double> back = fresh.state();
  if (back.size() != saved.size())
    throw FileError(path, std::to_string(saved.size()) + " " + kind + " state values back from " + Policy::name(),
                    std::to_string(back.size()) + " after set_state (the policy's state() changes size)");
  if (!same_bits(back, saved)) {
    std::size_t i = 0;
    while (std::bit_cast<std::uint64_t>(back[i]) == std::bit_cast<std::uint64_t>(saved[i])) ++i;
    throw FileError(path, "a " + kind + " state that " + Policy::name() + " can hold",
                    "value " + std::to_string(i) + " (" + io::detail::hex(std::bit_cast<std::uint64_t>(saved[i]), 16) +
                        ") does not read back unchanged");
  }
}

}  // namespace detail::checkpoint

template <class M, class L, class O, class S, class R, class St>
struct CheckpointAccess<Trainer<M, L, O, S, R, St>> {
  using TrainerT = Trainer<M, L, O, S, R, St>;
  using Run = typename TrainerT::Run;
  using T = typename TrainerT::scalar_type;
  using Contents = CheckpointContents<TrainerT>;
  using PolicyOptions = typename TrainerT::PolicyOptions;
  using optimizer_type = typename TrainerT::optimizer_type;
  using schedule_type = typename TrainerT::schedule_type;
  using regularizer_type = typename TrainerT::regularizer_type;
  using stopping_type = typename TrainerT::stopping_type;

  // The identity part of the meta section: what this Trainer type writes and expects.
  CTNN_COLD static io::CheckpointInfo identity() {
    io::CheckpointInfo i;
    i.model_signature = M::signature();
    i.scalar_bytes = static_cast<std::uint32_t>(sizeof(T));
    i.loss = detail::checkpoint::loss_name<L>();
    i.optimizer = optimizer_type::name();
    i.schedule = schedule_type::name();
    i.regularizer = regularizer_type::name();
    i.stopping = stopping_type::name();
    return i;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  CTNN_COLD static std::vector<std::byte> to_bytes(Run& run) {
    namespace sec = io::checkpoint_sections;
    io::Archive a;
    {
      io::CheckpointInfo info = identity();
      info.learning_rate = run.cfg.learning_rate;
      info.batch_size = run.cfg.batch_size;
      info.max_epochs = run.cfg.max_epochs;
      info.seed = run.cfg.seed;
      info.shuffle = run.cfg.shuffle;
      info.train_size = run.train.size();
      info.validation_size = run.validation.size();
      info.sample_size = run.train.sample_size();
      info.next_epoch = run.state.next_epoch;
      io::BinaryWriter w;
      io::write_checkpoint_info(w, info);
      a.set(sec::meta, w.take());
    }
    {
      io::BinaryWriter w;
      w.reserve(io::net_record_size(run.net));
      io::write_net_record(w, run.net);
      a.set(sec::net, w.take());
    }
    {
      io::BinaryWriter w;
      io::write_rng_state(w, run.net.rng().state());
      a.set(sec::net_rng, w.take());
    }
    {
      io::BinaryWriter w;
      io::write_rng_state(w, run.shuffle_rng.state());
      a.set(sec::shuffle_rng, w.take());
    }
    {
      io::BinaryWriter w;
      const auto names = run.optimizer.state_names();
      const auto buffers = run.optimizer.state_buffers();
      if (names.size() != buffers.size())  // the optimizer's bug, not the file's
        throw ConfigError(optimizer_type::name() + ": state_names() has " + std::to_string(names.size()) +
                          " names but state_buffers() " + std::to_string(buffers.size()) + " buffers");
      w.u64(run.optimizer.step_count());
      w.u64(names.size());
      for (std::size_t i = 0; i < names.size(); ++i) {
        w.string(names[i]);
        w.u64(buffers[i].size());
        w.values(std::span<const T>(buffers[i].data(), buffers[i].size()));
      }
      a.set(sec::optimizer, w.take());
    }
    {
      io::BinaryWriter w;
      io::write_doubles(w, run.schedule.state());
      a.set(sec::schedule, w.take());
    }
    {
      io::BinaryWriter w;
      io::write_doubles(w, run.stopping.state());
      a.set(sec::stopping, w.take());
    }
    {
      io::BinaryWriter w;
      const auto& order = run.batches.order();
      w.u64(order.size());
      for (const std::size_t index : order) w.u64(index);
      w.u64(run.batches.position());
      a.set(sec::batches, w.take());
    }
    {
      io::BinaryWriter w;
      const auto& s = run.state;
      w.u8(s.has_best ? 1 : 0);
      w.u64(s.best_epoch);
      w.f64(s.best_val_loss);
      w.u64(s.best_parameters.size());
      w.u64(s.best_buffers.size());
      w.values(std::span<const T>(s.best_parameters));
      w.values(std::span<const T>(s.best_buffers));
      a.set(sec::best, w.take());
    }
    a.set(sec::history, run.state.history.to_bytes());
    return a.to_bytes();
  }

  // The largest checkpoint a run of this Trainer over `train_size` training samples can write
  // (history room for max(max_epochs, 65536) epochs and a 1 MiB stop reason, plus 64 KiB of
  // slack for names). The reader refuses larger files before reading them.
  static std::size_t max_bytes(const TrainConfig& cfg, const PolicyOptions& policies, std::size_t buffer_count,
                               std::size_t train_size) {
    const std::size_t P = M::parameter_count, W = sizeof(T);
    optimizer_type optimizer(policies.optimizer);
    optimizer.resize(P);
    const std::size_t k = optimizer.state_names().size();
    const io::CheckpointInfo id = identity();
    const std::size_t epochs = std::max<std::size_t>(cfg.max_epochs, 1 << 16);
    std::size_t n = 16 + 4 + 10 * (8 + 32 + 8);                                     // archive
    n += 128 + id.model_signature.size() + id.loss.size() + id.optimizer.size() + id.schedule.size() +
         id.regularizer.size() + id.stopping.size();                                 // meta
    n += 44 + id.model_signature.size() + W * (P + buffer_count);                    // net
    n += 64;                                                                          // rngs
    n += 16 + k * (8 + 255 + 8 + W * P);                                             // optimizer
    n += 16 + 8 * (schedule_type(policies.schedule).state().size() +
                   stopping_type(policies.stopping).state().size());                  // policies
    n += 16 + 8 * train_size;                                                         // batches
    n += 33 + W * (P + buffer_count);                                                 // best
    n += 30 + 56 * epochs + (1 << 20);                                                // history
    return n + (1 << 16);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  // Parses a checkpoint held in memory and checks it against this Trainer type, the net's
  // architecture and the policies built from `policies`. Nothing is applied anywhere.
  static Contents parse(std::span<const std::byte> bytes, const std::string& path, const M& net,
                        const PolicyOptions& policies, std::uint64_t file_size = std::uint64_t(-1)) {
    namespace sec = io::checkpoint_sections;
    namespace dc = detail::checkpoint;
    const io::Archive a = io::Archive::from_bytes(bytes, path, file_size);
    const std::string& src = a.source();
    Contents c;

    {  // meta: who wrote it
      io::BinaryReader r = a.reader(sec::meta);
      c.info = io::read_checkpoint_info(r);
      check_identity(c.info, src + "[meta]");
      if (c.info.next_epoch == 0 || c.info.next_epoch > c.info.max_epochs)
        throw FileError(src + "[meta]", "a next epoch between 1 and max_epochs (" + std::to_string(c.info.max_epochs) + ")",
                        std::to_string(c.info.next_epoch));
      c.state.next_epoch = static_cast<std::size_t>(c.info.next_epoch);
    }
    {  // net: the weights (checks the architecture, counts and scalar width again)
      io::BinaryReader r = a.reader(sec::net);
      c.net = io::read_net_record(r, net);
      r.expect_end("end of the net section");
    }
    {
      io::BinaryReader r = a.reader(sec::net_rng);
      c.net_rng = io::read_rng_state(r);
      r.expect_end("end of the net_rng section");
    }
    {
      io::BinaryReader r = a.reader(sec::shuffle_rng);
      c.shuffle_rng = io::read_rng_state(r);
      r.expect_end("end of the shuffle_rng section");
    }
    {  // optimizer: step count, then the buffers this optimizer keeps, by name
      optimizer_type fresh(policies.optimizer);
      fresh.resize(M::parameter_count);
      const std::vector<std::string_view> names = fresh.state_names();
      io::BinaryReader r = a.reader(sec::optimizer);
      c.optimizer_steps = r.u64("optimizer step count");
      const std::size_t count_at = r.position();
      const std::uint64_t k = r.count("optimizer state buffer", 16, 1024);
      if (k != names.size())
        r.fail_at(count_at,
                  std::to_string(names.size()) + " state buffers (" + dc::join(names) + ", what " +
                      optimizer_type::name() + " keeps with these options)",
                  std::to_string(k) + ": the checkpoint was written with other optimizer options");
      c.optimizer_buffers.reserve(names.size());
      for (std::size_t i = 0; i < names.size(); ++i) {
        const std::size_t name_at = r.position();
        const std::string name = r.string("optimizer state buffer name", 255);
        if (name != names[i])
          r.fail_at(name_at, "state buffer " + std::to_string(i) + " named \"" + std::string(names[i]) + "\"",
                    "\"" + name + "\"");
        const std::size_t size_at = r.position();
        const std::uint64_t n = r.u64("optimizer state buffer size");
        if (n != M::parameter_count)
          r.fail_at(size_at, std::to_string(M::parameter_count) + " values in " + name + " (one per parameter)",
                    std::to_string(n));
        std::vector<T> values(M::parameter_count);  // sized from the type, checked above
        r.values(std::span<T>(values), "optimizer state buffer " + name);
        c.optimizer_buffers.push_back(std::move(values));
      }
      r.expect_end("end of the optimizer section");
    }
    {  // schedule and stopping rule: their state(), checked by a fresh policy
      io::BinaryReader r = a.reader(sec::schedule);
      c.schedule_state = io::read_doubles(r, "schedule", schedule_type(policies.schedule).state().size(),
                                          schedule_type::name());
      r.expect_end("end of the schedule section");
      dc::check_policy_state<schedule_type>(policies.schedule, c.schedule_state, src + "[schedule]", "schedule");
    }
    {
      io::BinaryReader r = a.reader(sec::stopping);
      c.stopping_state = io::read_doubles(r, "stopping rule", stopping_type(policies.stopping).state().size(),
                                          stopping_type::name());
      r.expect_end("end of the stopping section");
      dc::check_policy_state<stopping_type>(policies.stopping, c.stopping_state, src + "[stopping]",
                                            "stopping rule");
    }
    {  // batches: a permutation of the training set and a position in it
      io::BinaryReader r = a.reader(sec::batches);
      const std::size_t count_at = r.position();
      const std::uint64_t n = r.count("sample index", 8);
      if (n != c.info.train_size)
        r.fail_at(count_at, std::to_string(c.info.train_size) + " sample indices (the training set size in [meta])",
                  std::to_string(n));
      c.order.resize(static_cast<std::size_t>(n));  // n * 8 bytes are present: checked by count()
      std::vector<bool> seen(c.order.size(), false);
      for (auto& index : c.order) {
        const std::size_t at = r.position();
        const std::uint64_t v = r.u64("sample index");
        if (v >= n || seen[static_cast<std::size_t>(v)])
          r.fail_at(at, "a permutation of the sample indices 0.." + std::to_string(n == 0 ? 0 : n - 1),
                    "index " + std::to_string(v) + (v >= n ? " (out of range)" : " a second time"));
        seen[static_cast<std::size_t>(v)] = true;
        index = static_cast<std::size_t>(v);
      }
      const std::size_t pos_at = r.position();
      const std::uint64_t position = r.u64("position in the epoch");
      if (position > n)
        r.fail_at(pos_at, "a position of at most " + std::to_string(n) + " samples", std::to_string(position));
      c.position = static_cast<std::size_t>(position);
      r.expect_end("end of the batches section");
    }
    {  // best: the best epoch so far and its weights
      io::BinaryReader r = a.reader(sec::best);
      const std::size_t flag_at = r.position();
      const std::uint8_t has_best = r.u8("best-weights flag");
      if (has_best > 1) r.fail_at(flag_at, "best-weights flag 0 or 1", std::to_string(has_best));
      const std::size_t epoch_at = r.position();
      const std::uint64_t best_epoch = r.u64("best epoch");
      if (has_best && best_epoch >= c.info.next_epoch)
        r.fail_at(epoch_at, "a best epoch below the next epoch (" + std::to_string(c.info.next_epoch) + ")",
                  std::to_string(best_epoch));
      c.state.has_best = has_best == 1;
      c.state.best_epoch = has_best ? static_cast<std::size_t>(best_epoch) : 0;
      c.state.best_val_loss = r.f64("best watched loss");
      const std::size_t counts_at = r.position();
      const std::uint64_t p = r.u64("best parameter count"), b = r.u64("best buffer count");
      const std::size_t want_p = has_best ? M::parameter_count : 0;
      const std::size_t want_b = has_best ? net.buffers().size() : 0;
      if (p != want_p || b != want_b)
        r.fail_at(counts_at,
                  std::to_string(want_p) + " parameters and " + std::to_string(want_b) + " buffer values" +
                      (has_best ? " (the model's)" : " (no best epoch yet)"),
                  std::to_string(p) + " and " + std::to_string(b));
      c.state.best_parameters.resize(want_p);  // sized from the type, checked above
      c.state.best_buffers.resize(want_b);
      r.values(std::span<T>(c.state.best_parameters), "best parameter values");
      r.values(std::span<T>(c.state.best_buffers), "best buffer values");
      r.expect_end("end of the best section");
    }
    {  // history: one record per epoch run so far
      const std::string hpath = src + "[" + sec::history + "]";
      c.state.history = History::from_bytes(a.get(sec::history), hpath);
      const History& h = c.state.history;
      if (h.size() != c.info.next_epoch)
        throw FileError(hpath, std::to_string(c.info.next_epoch) + " epoch records (one per epoch before the next)",
                        std::to_string(h.size()));
      for (std::size_t i = 0; i < h.size(); ++i)
        if (h.epochs()[i].epoch != i)
          throw FileError(hpath, "record " + std::to_string(i) + " for epoch " + std::to_string(i),
                          "epoch " + std::to_string(h.epochs()[i].epoch));
      if (h.diverged()) throw FileError(hpath, "the history of a running training", "a diverged run");
    }
    return c;
  }

  // The meta section names this Trainer's model, scalar type, loss and policies.
  static void check_identity(const io::CheckpointInfo& got, const std::string& path) {
    const io::CheckpointInfo want = identity();
    if (got.model_signature != want.model_signature)
      throw FileError(path, "a checkpoint of the architecture " + want.model_signature + " (this Trainer's model)",
                      got.model_signature);
    if (got.scalar_bytes != want.scalar_bytes)
      throw FileError(path, std::to_string(want.scalar_bytes) + "-byte scalars (this Trainer's model)",
                      std::to_string(got.scalar_bytes) + "-byte scalars");
    const std::pair<const char*, const std::string*> slots[] = {
        {"loss", &got.loss},           {"optimizer", &got.optimizer},     {"schedule", &got.schedule},
        {"regularizer", &got.regularizer}, {"stopping rule", &got.stopping}};
    const std::string* wanted[] = {&want.loss, &want.optimizer, &want.schedule, &want.regularizer, &want.stopping};
    for (std::size_t i = 0; i < 5; ++i)
      if (*slots[i].second != *wanted[i])
        throw FileError(path, std::string("the ") + slots[i].first + " " + *wanted[i] + " (this Trainer's)",
                        *slots[i].second + ": the checkpoint was written by a Trainer with other policies");
  }

  // The settings and data sizes the run was written with match this trainer's.
  static void check_resumable(const io::CheckpointInfo& info, const TrainConfig& cfg, const data::Dataset& train,
                              const data::Dataset& validation, const std::string& path) {
    const std::string where = path + "[meta]";
    auto mismatch = [&](const std::string& setting, const std::string& ours, const std::string& theirs) {
      throw FileError(where, "a run with " + setting + " " + ours + " (this Trainer's)",
                      setting + " " + theirs + ": resume with the settings the run was started with");
    };
    if (info.learning_rate != cfg.learning_rate)
      mismatch("learning_rate", detail::number(cfg.learning_rate), detail::number(info.learning_rate));
    if (info.batch_size != cfg.batch_size)
      mismatch("batch_size", std::to_string(cfg.batch_size), std::to_string(info.batch_size));
    if (info.shuffle != cfg.shuffle)
      mismatch("shuffle", cfg.shuffle ? "true" : "false", info.shuffle ? "true" : "false");
    if (info.train_size != train.size())
      mismatch("a training set of", std::to_string(train.size()) + " samples", std::to_string(info.train_size) + " samples");
    if (info.sample_size != train.sample_size())
      mismatch("a sample size of", std::to_string(train.sample_size()) + " values",
               std::to_string(info.sample_size) + " values");
    if (info.validation_size != validation.size())
      mismatch("a validation set of", std::to_string(validation.size()) + " samples",
               std::to_string(info.validation_size) + " samples");
  }

  // Applies checked contents to a freshly made run (cannot fail: everything was checked).
  static void apply(Run& run, Contents&& c) {
    io::assign(run.net, c.net);
    run.net.rng().set_state(c.net_rng);
    run.shuffle_rng.set_state(c.shuffle_rng);
    run.optimizer.set_step_count(c.optimizer_steps);
    auto buffers = run.optimizer.state_buffers();
    for (std::size_t i = 0; i < buffers.size(); ++i)
      std::copy(c.optimizer_buffers[i].begin(), c.optimizer_buffers[i].end(), buffers[i].begin());
    run.schedule.set_state(c.schedule_state);
    run.stopping.set_state(c.stopping_state);
    run.batches.restore(c.order, c.position);
    run.state = std::move(c.state);
  }

  static History resume(TrainerT& trainer, M& net, const data::Dataset& train, const data::Dataset& validation,
                        const std::string& path) {
    if (path.empty()) throw ConfigError("Trainer::resume: the checkpoint path is empty");
    Run run(trainer, net, train, validation);  // checks the settings and the data first
    const std::size_t limit = max_bytes(run.cfg, trainer.policies(), net.buffers().size(), train.size());
    const io::FileBytes f = io::read_file(path, limit);
    if (f.size > limit)
      throw FileError(path,
                      "a checkpoint of at most " + std::to_string(limit) +
                          " bytes (the most this Trainer writes for its model and data)",
                      std::to_string(f.size) + " bytes: a checkpoint of another (larger) model, or not a checkpoint");
    Contents c = parse(f.bytes, path, net, trainer.policies(), f.size);
    check_resumable(c.info, run.cfg, train, validation, path);
    apply(run, std::move(c));
    return run.go();
  }
};

// Reads a checkpoint held in memory and checks it against TrainerT, `net`'s architecture and the
// policies built from `policies`, without applying it (what resume() does first; fuzzed).
template <class TrainerT>
CheckpointContents<TrainerT> read_checkpoint(std::span<const std::byte> bytes, const std::string& path,
                                             const typename TrainerT::model_type& net,
                                             const typename TrainerT::PolicyOptions& policies = {}) {
  return CheckpointAccess<TrainerT>::parse(bytes, path, net, policies);
}

template <class M, class L, class O, class S, class R, class St>
void Trainer<M, L, O, S, R, St>::write_checkpoint(Run& run) {
  io::write_file_atomically(run.cfg.checkpoint_path, CheckpointAccess<Trainer>::to_bytes(run));
}

template <class M, class L, class O, class S, class R, class St>
History Trainer<M, L, O, S, R, St>::resume(M& net, const data::Dataset& train, const data::Dataset& validation,
                                           const std::string& checkpoint_path) {
  return CheckpointAccess<Trainer>::resume(*this, net, train, validation, checkpoint_path);
}

}  // namespace ctnn
