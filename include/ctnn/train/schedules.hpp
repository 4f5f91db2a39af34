#pragma once
// Learning-rate schedules: the Trainer's 4th argument.
//
// The Trainer asks learning_rate(clock) before every batch and calls end_epoch(val_loss) after
// every epoch. Each schedule scales clock.base_lr (the config's learning rate); whether it
// changes per batch or per epoch is said on each one and in docs/schedules.md.
//
//   Constant                                       lr = base                       (per epoch)
//   StepDecay<StepEpochs = 10, Gamma = 0.1>        base * Gamma^(epoch / Step)     (per epoch)
//   ExponentialDecay<Gamma = 0.95>                 base * Gamma^epoch              (per epoch)
//   CosineDecay<MinFactor = 0, PerBatch = false>   cosine from base to Min*base    (epoch|batch)
//   Warmup<Epochs, Inner = Constant>               linear ramp, then Inner         (per batch)
//   ReduceOnPlateau<Factor = 0.1, Patience = 10, Threshold = 1e-4, Cooldown = 0, MinFactor = 0>
//                                                  base * factor, cut on plateaus  (per epoch)
//   OneCycle<MaxFactor = 1, PctStart = 0.3, DivFactor = 25, FinalDivFactor = 1e4>
//                                                  PyTorch OneCycleLR, cos         (per batch)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/train/concepts.hpp"

namespace ctnn {

namespace detail {

inline void check_state_size(const std::string& who, std::size_t expected, std::size_t got) {
  if (expected != got)
    throw ConfigError(who + "::set_state: expected " + std::to_string(expected) +
                      " saved values, got " + std::to_string(got) +
                      " (the checkpoint was written with another schedule or stopping rule)");
}

// Cosine interpolation from start (pct 0) to end (pct 1), PyTorch's _annealing_cos.
inline double anneal_cos(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Constant: lr = base_lr throughout.
struct Constant {
  static constexpr std::string_view kind = "schedule";
  struct Options {};
  CTNN_COLD static std::string name() { return "Constant"; }

  Constant() = default;
  explicit Constant(Options) {}
  Options options() const { return {}; }

  double learning_rate(const ScheduleClock& clock) const { return clock.base_lr; }
  void end_epoch(double) {}
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double> saved) {
    detail::check_state_size("Constant", 0, saved.size());
  }
};

// ---------------------------------------------------------------------------------------------
// StepDecay<StepEpochs, Gamma>: lr = base * Gamma^floor(epoch / StepEpochs). Per epoch
// (torch.optim.lr_scheduler.StepLR stepped once per epoch).
template <std::size_t StepEpochs = 10, double Gamma = 0.1>
class StepDecay {
  static_assert(StepEpochs > 0, "StepDecay's StepEpochs must be > 0");
  static_assert(Gamma > 0.0, "StepDecay's Gamma must be > 0");

 public:
  static constexpr std::string_view kind = "schedule";
  struct Options {
    std::size_t step_epochs = StepEpochs;  // > 0
    double gamma = Gamma;                  // > 0; usually < 1
  };
  CTNN_COLD static std::string name() {
    return "StepDecay<" + detail::number(StepEpochs) + ", " + detail::number(Gamma) + ">";
  }

  StepDecay() : StepDecay(Options{}) {}
  explicit StepDecay(Options options) : options_(options) {
    detail::require(options_.step_epochs > 0, "StepDecay: step_epochs must be > 0");
    detail::require(options_.gamma > 0.0,
                    "StepDecay: gamma must be > 0, got " + detail::number(options_.gamma));
  }
  const Options& options() const { return options_; }

  double learning_rate(const ScheduleClock& clock) const {
    return clock.base_lr *
           std::pow(options_.gamma, static_cast<double>(clock.epoch / options_.step_epochs));
  }
  void end_epoch(double) {}
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double> saved) {
    detail::check_state_size("StepDecay", 0, saved.size());
  }

 private:
  Options options_;
};

// ---------------------------------------------------------------------------------------------
// ExponentialDecay<Gamma>: lr = base * Gamma^epoch. Per epoch (torch ExponentialLR).
template <double Gamma = 0.95>
class ExponentialDecay {
  static_assert(Gamma > 0.0, "ExponentialDecay's Gamma must be > 0");

 public:
  static constexpr std::string_view kind = "schedule";
  struct Options {
    double gamma = Gamma;  // > 0; usually < 1
  };
  CTNN_COLD static std::string name() { return "ExponentialDecay<" + detail::number(Gamma) + ">"; }

  ExponentialDecay() : ExponentialDecay(Options{}) {}
  explicit ExponentialDecay(Options options) : options_(options) {
    detail::require(options_.gamma > 0.0,
                    "ExponentialDecay: gamma must be > 0, got " + detail::number(options_.gamma));
  }
  const Options& options() const { return options_; }

  double learning_rate(const ScheduleClock& clock) const {
    return clock.base_lr * std::pow(options_.gamma, static_cast<double>(clock.epoch));
  }
  void end_epoch(double) {}
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double> saved) {
    detail::check_state_size("ExponentialDecay", 0, saved.size());
  }

 private:
  Options options_;
};

// ---------------------------------------------------------------------------------------------
// CosineDecay<MinFactor, PerBatch>: half a cosine from base down to MinFactor * base over the
// whole run (torch CosineAnnealingLR with T_max = total, eta_min = MinFactor * base):
//   lr = min + (base - min) * (1 + cos(pi * t / total)) / 2
// Per epoch by default (t = epoch, total = total_epochs; the last epoch is still above min, as in
// PyTorch); PerBatch = true moves every batch (t = global step, total = total steps).
template <double MinFactor = 0.0, bool PerBatch = false>
class CosineDecay {
  static_assert(MinFactor >= 0.0 && MinFactor <= 1.0, "CosineDecay's MinFactor must be in [0, 1]");

 public:
  static constexpr std::string_view kind = "schedule";
  struct Options {
    double min_factor = MinFactor;  // the final lr as a fraction of base, in [0, 1]
    bool per_batch = PerBatch;      // false: changes once per epoch; true: every batch
  };
  CTNN_COLD static std::string name() {
    return "CosineDecay<" + detail::number(MinFactor) + ", " + detail::number(PerBatch) + ">";
  }

  CosineDecay() : CosineDecay(Options{}) {}
  explicit CosineDecay(Options options) : options_(options) {
    detail::require(options_.min_factor >= 0.0 && options_.min_factor <= 1.0,
                    "CosineDecay: min_factor must be in [0, 1], got " +
                        detail::number(options_.min_factor));
  }
  const Options& options() const { return options_; }

  double learning_rate(const ScheduleClock& clock) const {
    std::size_t t = clock.epoch, total = clock.total_epochs;
    if (options_.per_batch) {
      detail::require(clock.steps_per_epoch > 0,
                      "CosineDecay (per batch) needs steps_per_epoch > 0 in the clock");
      t = clock.step();
      total = clock.total_steps();
    }
    detail::require(total > 0, "CosineDecay needs total_epochs > 0 in the clock");
    const double pct = static_cast<double>(std::min(t, total)) / static_cast<double>(total);
    const double base = clock.base_lr, min = options_.min_factor * base;
    return min + (base - min) * (1.0 + std::cos(std::numbers::pi * pct)) / 2.0;
  }
  void end_epoch(double) {}
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double> saved) {
    detail::check_state_size("CosineDecay", 0, saved.size());
  }

 private:
  Options options_;
};

// ---------------------------------------------------------------------------------------------
// Warmup<Epochs, Inner>: a linear ramp over the first Epochs epochs, then Inner, whose time starts
// when the warmup ends (Inner sees epoch - Epochs and total_epochs - Epochs).
// The ramp moves every batch: batch k of W = Epochs * steps_per_epoch warmup batches (k from 0)
// gets lr = target * (k + 1) / W, where target is Inner's lr at its first batch; so the first
// batch is small but not zero and the last warmup batch reaches target. With steps_per_epoch == 0
// the ramp moves per epoch: target * (epoch + 1) / Epochs.
// end_epoch() is passed to Inner only for epochs after the warmup.
template <std::size_t Epochs, class Inner = Constant>
class Warmup {
  static constexpr bool inner_is_schedule = Schedule<Inner>;
  static_assert(inner_is_schedule,  // the second argument is not a schedule
                "Warmup<Epochs, Inner>: Inner must be a schedule such as ctnn::CosineDecay<> or "
                "ctnn::Constant (see docs/schedules.md)");
  using inner_type = std::conditional_t<inner_is_schedule, Inner, detail::placeholder_schedule>;

 public:
  static constexpr std::string_view kind = "schedule";
  struct Options {
    std::size_t epochs = Epochs;           // warmup length in epochs; 0 = no warmup
    typename inner_type::Options inner = {};  // the inner schedule's options
  };
  CTNN_COLD static std::string name() {
    return "Warmup<" + detail::number(Epochs) + ", " + inner_type::name() + ">";
  }

  Warmup() : Warmup(Options{}) {}
  explicit Warmup(Options options) : options_(options), inner_(options.inner) {}
  const Options& options() const { return options_; }
  const inner_type& inner() const { return inner_; }

  double learning_rate(const ScheduleClock& clock) const {
    const std::size_t w = options_.epochs;
    if (clock.epoch >= w)
      return inner_.learning_rate(inner_clock(clock, clock.epoch - w, clock.step_in_epoch));
    const double target = inner_.learning_rate(inner_clock(clock, 0, 0));
    if (clock.steps_per_epoch == 0)
      return target * static_cast<double>(clock.epoch + 1) / static_cast<double>(w);
    return target * static_cast<double>(clock.step() + 1) /
           static_cast<double>(w * clock.steps_per_epoch);
  }

  void end_epoch(double val_loss) {
    if (epochs_done_ >= options_.epochs) inner_.end_epoch(val_loss);
    ++epochs_done_;
  }

  // {epochs ended so far, Inner's state...}
  std::vector<double> state() const {
    std::vector<double> out{static_cast<double>(epochs_done_)};
    const std::vector<double> inner = inner_.state();
    out.insert(out.end(), inner.begin(), inner.end());
    return out;
  }
  void set_state(std::span<const double> saved) {
    detail::check_state_size("Warmup", 1 + inner_.state().size(), saved.size());
    epochs_done_ = static_cast<std::size_t>(saved[0]);
    inner_.set_state(saved.subspan(1));
  }

  std::size_t epochs_done() const { return epochs_done_; }

 private:
  // The clock Inner sees: its own epoch count, the epochs left after warmup.
  ScheduleClock inner_clock(const ScheduleClock& clock, std::size_t epoch,
                            std::size_t step_in_epoch) const {
    ScheduleClock c = clock;
    c.epoch = epoch;
    c.step_in_epoch = step_in_epoch;
    c.total_epochs = clock.total_epochs > options_.epochs ? clock.total_epochs - options_.epochs
                                                          : 1;
    return c;
  }

  Options options_;
  inner_type inner_;
  std::size_t epochs_done_ = 0;
};

// ---------------------------------------------------------------------------------------------
// ReduceOnPlateau<Factor, Patience, Threshold, Cooldown, MinFactor>: torch ReduceLROnPlateau in
// mode "min" with a relative threshold. lr = base * factor, factor starting at 1. After each epoch
// end_epoch(val_loss) counts the epoch as bad unless val_loss < best * (1 - Threshold); after more
// than Patience bad epochs in a row factor *= Factor (not below MinFactor), and the next Cooldown
// epochs are not counted. Per epoch. A NaN loss counts as a bad epoch.
template <double Factor = 0.1, std::size_t Patience = 10, double Threshold = 1e-4,
          std::size_t Cooldown = 0, double MinFactor = 0.0>
class ReduceOnPlateau {
  static_assert(Factor > 0.0 && Factor < 1.0, "ReduceOnPlateau's Factor must be in (0, 1)");
  static_assert(Threshold >= 0.0, "ReduceOnPlateau's Threshold must be >= 0");
  static_assert(MinFactor >= 0.0 && MinFactor <= 1.0,
                "ReduceOnPlateau's MinFactor must be in [0, 1]");

 public:
  static constexpr std::string_view kind = "schedule";
  struct Options {
    double factor = Factor;          // multiplies the lr on a plateau, in (0, 1)
    std::size_t patience = Patience; // bad epochs tolerated before a cut
    double threshold = Threshold;    // relative improvement needed, >= 0
    std::size_t cooldown = Cooldown; // epochs ignored after a cut
    double min_factor = MinFactor;   // the lr never goes below min_factor * base
  };
  CTNN_COLD static std::string name() {
    return "ReduceOnPlateau<" + detail::number(Factor) + ", " + detail::number(Patience) + ", " +
           detail::number(Threshold) + ", " + detail::number(Cooldown) + ", " +
           detail::number(MinFactor) + ">";
  }

  ReduceOnPlateau() : ReduceOnPlateau(Options{}) {}
  explicit ReduceOnPlateau(Options options) : options_(options) {
    detail::require(options_.factor > 0.0 && options_.factor < 1.0,
                    "ReduceOnPlateau: factor must be in (0, 1), got " +
                        detail::number(options_.factor));
    detail::require(options_.threshold >= 0.0,
                    "ReduceOnPlateau: threshold must be >= 0, got " +
                        detail::number(options_.threshold));
    detail::require(options_.min_factor >= 0.0 && options_.min_factor <= 1.0,
                    "ReduceOnPlateau: min_factor must be in [0, 1], got " +
                        detail::number(options_.min_factor));
  }
  const Options& options() const { return options_; }

  double learning_rate(const ScheduleClock& clock) const { return clock.base_lr * factor_; }

  // After each epoch, with the validation loss (the trainer passes the training loss when it has
  // no validation set).
  void end_epoch(double val_loss) {
    if (val_loss < best_ * (1.0 - options_.threshold)) {
      best_ = val_loss;
      bad_epochs_ = 0;
    } else {
      ++bad_epochs_;
    }
    if (cooldown_left_ > 0) {
      --cooldown_left_;
      bad_epochs_ = 0;
    }
    if (bad_epochs_ > options_.patience) {
      const double reduced = std::max(factor_ * options_.factor, options_.min_factor);
      if (factor_ - reduced > 1e-8 * factor_) {
        factor_ = reduced;
        ++reductions_;
      }
      cooldown_left_ = options_.cooldown;
      bad_epochs_ = 0;
    }
  }

  double factor() const { return factor_; }           // lr = base * factor
  double best() const { return best_; }               // best loss so far (+inf before any)
  std::size_t bad_epochs() const { return bad_epochs_; }
  std::size_t cooldown_left() const { return cooldown_left_; }
  std::size_t reductions() const { return reductions_; }

  // {factor, best, bad_epochs, cooldown_left, reductions}
  std::vector<double> state() const {
    return {factor_, best_, static_cast<double>(bad_epochs_), static_cast<double>(cooldown_left_),
            static_cast<double>(reductions_)};
  }
  void set_state(std::span<const double> saved) {
    detail::check_state_size("ReduceOnPlateau", 5, saved.size());
    factor_ = saved[0];
    best_ = saved[1];
    bad_epochs_ = static_cast<std::size_t>(saved[2]);
    cooldown_left_ = static_cast<std::size_t>(saved[3]);
    reductions_ = static_cast<std::size_t>(saved[4]);
  }

 private:
  Options options_;
  double factor_ = 1.0;
  double best_ = std::numeric_limits<double>::infinity();
  std::size_t bad_epochs_ = 0, cooldown_left_ = 0, reductions_ = 0;
};

// ---------------------------------------------------------------------------------------------
// OneCycle<MaxFactor, PctStart, DivFactor, FinalDivFactor>: torch OneCycleLR (two phases, cos
// annealing) over total_epochs * steps_per_epoch batches. Per batch. With max = MaxFactor * base:
// it rises from max / DivFactor to max over the first PctStart of the batches, then falls to
// max / (DivFactor * FinalDivFactor) at the last batch. Momentum is not cycled.
template <double MaxFactor = 1.0, double PctStart = 0.3, double DivFactor = 25.0,
          double FinalDivFactor = 1e4>
class OneCycle {
  static_assert(MaxFactor > 0.0, "OneCycle's MaxFactor must be > 0");
  static_assert(PctStart > 0.0 && PctStart < 1.0, "OneCycle's PctStart must be in (0, 1)");
  static_assert(DivFactor > 0.0, "OneCycle's DivFactor must be > 0");
  static_assert(FinalDivFactor > 0.0, "OneCycle's FinalDivFactor must be > 0");

 public:
  static constexpr std::string_view kind = "schedule";
  struct Options {
    double max_factor = MaxFactor;            // peak lr = max_factor * base
    double pct_start = PctStart;              // fraction of the batches spent rising, in (0, 1)
    double div_factor = DivFactor;            // initial lr = peak / div_factor
    double final_div_factor = FinalDivFactor; // final lr = initial / final_div_factor
  };
  CTNN_COLD static std::string name() {
    return "OneCycle<" + detail::number(MaxFactor) + ", " + detail::number(PctStart) + ", " +
           detail::number(DivFactor) + ", " + detail::number(FinalDivFactor) + ">";
  }

  OneCycle() : OneCycle(Options{}) {}
  explicit OneCycle(Options options) : options_(options) {
    detail::require(options_.max_factor > 0.0, "OneCycle: max_factor must be > 0");
    detail::require(options_.pct_start > 0.0 && options_.pct_start < 1.0,
                    "OneCycle: pct_start must be in (0, 1), got " +
                        detail::number(options_.pct_start));
    detail::require(options_.div_factor > 0.0 && options_.final_div_factor > 0.0,
                    "OneCycle: div_factor and final_div_factor must be > 0");
  }
  const Options& options() const { return options_; }

  double learning_rate(const ScheduleClock& clock) const {
    detail::require(clock.steps_per_epoch > 0 && clock.total_epochs > 0,
                    "OneCycle needs steps_per_epoch > 0 and total_epochs > 0 in the clock");
    const double total = static_cast<double>(clock.total_steps());
    const double step = std::min(static_cast<double>(clock.step()), total - 1.0);
    const double max_lr = options_.max_factor * clock.base_lr;
    const double initial_lr = max_lr / options_.div_factor;
    const double min_lr = initial_lr / options_.final_div_factor;
    const double end_rise = options_.pct_start * total - 1.0;  // PyTorch's phase boundary
    const double end_fall = total - 1.0;
    if (step <= end_rise)
      return detail::anneal_cos(initial_lr, max_lr, end_rise > 0.0 ? step / end_rise : 1.0);
    return detail::anneal_cos(max_lr, min_lr,
                              end_fall > end_rise ? (step - end_rise) / (end_fall - end_rise)
                                                  : 1.0);
  }
  void end_epoch(double) {}
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double> saved) {
    detail::check_state_size("OneCycle", 0, saved.size());
  }

 private:
  Options options_;
};

static_assert(Schedule<Constant>);
static_assert(Schedule<StepDecay<>>);
static_assert(Schedule<ExponentialDecay<>>);
static_assert(Schedule<CosineDecay<>>);
static_assert(Schedule<Warmup<2, CosineDecay<>>>);
static_assert(Schedule<ReduceOnPlateau<>>);
static_assert(Schedule<OneCycle<>>);

}  // namespace ctnn
