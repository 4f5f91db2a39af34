#pragma once
// Stopping rules: the Trainer's 6th argument.
//
// After every epoch the Trainer calls update(metrics) and stops when the decision says so, with
// its reason; after every batch it calls check_step(batch_loss), which only StopOnNaN uses. The
// Trainer always stops after max_epochs, whatever the rule.
//
//   MaxEpochs                                      run all max_epochs
//   EarlyStopping<Patience = 5, MinDelta = 0, Monitor = Monitor::val_loss>
//                                                  stop after Patience epochs without improvement
//   StopOnNaN                                      stop at once on a NaN/inf loss ("diverged")
//   AnyOf<Rules...>                                stop when any rule says so
//
// Epochs are 0-based in EpochMetrics and best_epoch(); messages count them from 1, as logs do.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "ctnn/train/concepts.hpp"

namespace ctnn {

// What EarlyStopping watches. Losses must go down, accuracies up.
enum class Monitor { val_loss, val_accuracy, train_loss, train_accuracy };

constexpr std::string_view to_string(Monitor m) {
  switch (m) {
    case Monitor::val_loss: return "val_loss";
    case Monitor::val_accuracy: return "val_accuracy";
    case Monitor::train_loss: return "train_loss";
    case Monitor::train_accuracy: return "train_accuracy";
  }
  return "?";
}

namespace detail {

// "0.2871", "nan", "inf": 4 significant digits, for messages.
inline std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// The message is built out of line, so that the check stays small enough to inline everywhere
// and the compiler sees the saved values in bounds after it (no -Warray-bounds false alarm).
[[noreturn]] CTNN_COLD inline void saved_count_error(const std::string& who, std::size_t expected,
                                                     std::size_t got) {
  throw ConfigError(who + "::set_state: expected " + std::to_string(expected) +
                    " saved values, got " + std::to_string(got) +
                    " (the checkpoint was written with another stopping rule)");
}
inline void check_saved(const std::string& who, std::size_t expected, std::size_t got) {
  if (expected != got) saved_count_error(who, expected, got);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// MaxEpochs: never stops early; training ends after the Trainer's max_epochs.
struct MaxEpochs {
  static constexpr std::string_view kind = "stopping rule";
  struct Options {};
  CTNN_COLD static std::string name() { return "MaxEpochs"; }

  MaxEpochs() = default;
  explicit MaxEpochs(Options) {}
  Options options() const { return {}; }

  StopDecision update(const EpochMetrics&) { return StopDecision::keep_going(); }
  StopDecision check_step(double) const { return StopDecision::keep_going(); }
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double> saved) {
    detail::check_saved("MaxEpochs", 0, saved.size());
  }
};

// ---------------------------------------------------------------------------------------------
// EarlyStopping<Patience, MinDelta, M>: stops once Patience epochs in a row have not improved on
// the best value of M by more than MinDelta (a loss must fall below best - MinDelta, an accuracy
// rise above best + MinDelta; the first finite value always improves, NaN never does). It keeps
// the best epoch, so the Trainer can restore the best weights: improved() is true when the epoch
// just passed to update() is the new best. Monitoring a validation value without a validation
// set (metrics.has_validation == false) throws ConfigError.
template <std::size_t Patience = 5, double MinDelta = 0.0, Monitor M = Monitor::val_loss>
class EarlyStopping {
  static_assert(MinDelta >= 0.0, "EarlyStopping's MinDelta must be >= 0");

 public:
  static constexpr std::string_view kind = "stopping rule";
  struct Options {
    std::size_t patience = Patience;  // epochs without improvement tolerated
    double min_delta = MinDelta;      // smallest change that counts as improvement, >= 0
    Monitor monitor = M;              // what is watched
  };
  CTNN_COLD static std::string name() {
    return "EarlyStopping<" + detail::number(Patience) + ", " + detail::number(MinDelta) + ", " +
           std::string(to_string(M)) + ">";
  }

  EarlyStopping() : EarlyStopping(Options{}) {}
  explicit EarlyStopping(Options options) : options_(options), best_(worst()) {
    detail::require(options_.min_delta >= 0.0, "EarlyStopping: min_delta must be >= 0, got " +
                                                   detail::number(options_.min_delta));
  }
  const Options& options() const { return options_; }

  StopDecision update(const EpochMetrics& m) {
    const double value = watched(m);
    improved_ = maximizing() ? value > best_ + options_.min_delta
                             : value < best_ - options_.min_delta;
    if (improved_) {
      best_ = value;
      best_epoch_ = m.epoch;
      bad_epochs_ = 0;
    } else {
      ++bad_epochs_;
    }
    if (bad_epochs_ > 0 && bad_epochs_ >= options_.patience)
      return StopDecision::stop_training(
          "early stopping: " + description() + " did not improve for " +
          std::to_string(bad_epochs_) + (bad_epochs_ == 1 ? " epoch" : " epochs") +
          (std::isfinite(best_) ? " (best " + detail::short_number(best_) + " at epoch " +
                                      std::to_string(best_epoch_ + 1) + ")"
                                : " (no finite value yet)"));
    return StopDecision::keep_going();
  }
  StopDecision check_step(double) const { return StopDecision::keep_going(); }

  bool improved() const { return improved_; }            // the last epoch is the new best
  std::size_t best_epoch() const { return best_epoch_; } // 0-based, as in EpochMetrics
  double best() const { return best_; }                  // +inf / -inf before any
  std::size_t bad_epochs() const { return bad_epochs_; } // epochs since the best

  // {best, best_epoch, bad_epochs, improved}
  std::vector<double> state() const {
    return {best_, static_cast<double>(best_epoch_), static_cast<double>(bad_epochs_),
            improved_ ? 1.0 : 0.0};
  }
  void set_state(std::span<const double> saved) {
    detail::check_saved("EarlyStopping", 4, saved.size());
    best_ = saved[0];
    best_epoch_ = static_cast<std::size_t>(saved[1]);
    bad_epochs_ = static_cast<std::size_t>(saved[2]);
    improved_ = saved[3] != 0.0;
  }

 private:
  bool maximizing() const {
    return options_.monitor == Monitor::val_accuracy ||
           options_.monitor == Monitor::train_accuracy;
  }
  double worst() const {
    return maximizing() ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
  }
  std::string description() const {
    switch (options_.monitor) {
      case Monitor::val_loss: return "validation loss";
      case Monitor::val_accuracy: return "validation accuracy";
      case Monitor::train_loss: return "training loss";
      case Monitor::train_accuracy: return "training accuracy";
    }
    return "?";
  }
  double watched(const EpochMetrics& m) const {
    const bool validation =
        options_.monitor == Monitor::val_loss || options_.monitor == Monitor::val_accuracy;
    if (validation && !m.has_validation)
      throw ConfigError("EarlyStopping monitors " + std::string(to_string(options_.monitor)) +
                        " but the trainer has no validation set: give it one, or monitor "
                        "Monitor::train_loss");
    switch (options_.monitor) {
      case Monitor::val_loss: return m.val_loss;
      case Monitor::val_accuracy: return m.val_accuracy;
      case Monitor::train_loss: return m.train_loss;
      case Monitor::train_accuracy: return m.train_accuracy;
    }
    return m.val_loss;
  }

  Options options_;
  double best_;
  std::size_t best_epoch_ = 0, bad_epochs_ = 0;
  bool improved_ = false;
};

// ---------------------------------------------------------------------------------------------
// StopOnNaN: stops at once when a loss is NaN or infinite: the training loss or (with a
// validation set) the validation loss after an epoch, or any batch loss (check_step). The reason
// starts with "diverged".
struct StopOnNaN {
  static constexpr std::string_view kind = "stopping rule";
  struct Options {};
  CTNN_COLD static std::string name() { return "StopOnNaN"; }

  StopOnNaN() = default;
  explicit StopOnNaN(Options) {}
  Options options() const { return {}; }

  StopDecision update(const EpochMetrics& m) {
    const std::string at = " at epoch " + std::to_string(m.epoch + 1);
    if (!std::isfinite(m.train_loss))
      return StopDecision::stop_training("diverged: training loss is " +
                                         detail::short_number(m.train_loss) + at);
    if (m.has_validation && !std::isfinite(m.val_loss))
      return StopDecision::stop_training("diverged: validation loss is " +
                                         detail::short_number(m.val_loss) + at);
    return StopDecision::keep_going();
  }
  StopDecision check_step(double batch_loss) const {
    if (std::isfinite(batch_loss)) return StopDecision::keep_going();
    return StopDecision::stop_training("diverged: batch loss is " +
                                       detail::short_number(batch_loss));
  }
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double> saved) {
    detail::check_saved("StopOnNaN", 0, saved.size());
  }
};

// ---------------------------------------------------------------------------------------------
// AnyOf<Rules...>: every rule sees every epoch (so each keeps its own state); the first rule, in
// argument order, that says stop gives the decision. improved()/best_epoch() come from the first
// rule that tracks the best epoch (an EarlyStopping), when there is one.
namespace detail {
template <class R>
using stopping_or_placeholder = std::conditional_t<StoppingRule<R>, R, placeholder_stopping>;
}  // namespace detail

template <class... Rules>
class AnyOf {
  static constexpr bool all_rules = (StoppingRule<Rules> && ...);
  static_assert(all_rules,  // one of the arguments is not a stopping rule
                "AnyOf<Rules...>: every argument must be a stopping rule such as "
                "ctnn::EarlyStopping<5> or ctnn::StopOnNaN (see docs/stopping.md)");
  using parts_type = std::tuple<detail::stopping_or_placeholder<Rules>...>;
  static constexpr bool tracks_best = (TracksBest<detail::stopping_or_placeholder<Rules>> || ...);

 public:
  static constexpr std::string_view kind = "stopping rule";
  using Options = std::tuple<typename detail::stopping_or_placeholder<Rules>::Options...>;
  CTNN_COLD static std::string name() {
    std::string out = "AnyOf<";
    bool first = true;
    ((out += (first ? "" : ", ") + detail::stopping_or_placeholder<Rules>::name(), first = false),
     ...);
    return out + ">";
  }

  AnyOf() = default;
  explicit AnyOf(Options options)
      : parts_(std::apply([](const auto&... o) { return parts_type(o...); }, options)) {}
  Options options() const {
    return std::apply([](const auto&... r) { return Options(r.options()...); }, parts_);
  }
  const parts_type& parts() const { return parts_; }

  StopDecision update(const EpochMetrics& m) {
    StopDecision out;
    std::apply(
        [&](auto&... r) {
          ((void)[&] {
             StopDecision d = r.update(m);
             if (d.stop && !out.stop) out = std::move(d);
           }(),
           ...);
        },
        parts_);
    return out;
  }
  StopDecision check_step(double batch_loss) const {
    StopDecision out;
    // || stops at the first rule that says stop; out holds its decision.
    std::apply([&](const auto&... r) { (void)((out = r.check_step(batch_loss)).stop || ...); },
               parts_);
    return out;
  }

  bool improved() const requires tracks_best { return best_tracker().improved(); }
  std::size_t best_epoch() const requires tracks_best { return best_tracker().best_epoch(); }

  // Every rule's state, in argument order.
  std::vector<double> state() const {
    std::vector<double> out;
    std::apply(
        [&](const auto&... r) {
          ((void)[&] {
             const std::vector<double> s = r.state();
             out.insert(out.end(), s.begin(), s.end());
           }(),
           ...);
        },
        parts_);
    return out;
  }
  void set_state(std::span<const double> saved) {
    detail::check_saved("AnyOf", state().size(), saved.size());
    std::apply(
        [&](auto&... r) {
          ((void)[&] {
             const std::size_t k = r.state().size();
             r.set_state(saved.first(k));
             saved = saved.subspan(k);
           }(),
           ...);
        },
        parts_);
  }

 private:
  // The first rule that tracks the best epoch.
  template <std::size_t I = 0>
  const auto& best_tracker() const {
    if constexpr (TracksBest<std::tuple_element_t<I, parts_type>>)
      return std::get<I>(parts_);
    else
      return best_tracker<I + 1>();
  }

  parts_type parts_;
};

static_assert(StoppingRule<MaxEpochs>);
static_assert(StoppingRule<EarlyStopping<>>);
static_assert(StoppingRule<StopOnNaN>);
static_assert(StoppingRule<AnyOf<EarlyStopping<>, StopOnNaN>>);
static_assert(TracksBest<EarlyStopping<>>);
static_assert(TracksBest<AnyOf<StopOnNaN, EarlyStopping<>>>);
static_assert(!TracksBest<AnyOf<StopOnNaN, MaxEpochs>>);

}  // namespace ctnn
