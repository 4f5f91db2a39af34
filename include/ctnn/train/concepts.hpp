#pragma once
// The four policy families of ctnn::Trainer, the values they exchange with it, and the slot
// checks that turn a policy in the wrong slot into one short, plain-English error.
//
//   Trainer<Model, Loss, Optimizer = Adam<>, Schedule = Constant,
//           Regularizer = NoRegularizer, Stopping = MaxEpochs>
//
// Every policy is a type with
//   static constexpr std::string_view kind;   // "optimizer", "schedule", "regularizer",
//                                             // "stopping rule"
//   static std::string name();                // the template arguments, "Adam<0.9, 0.999, 1e-08>"
//   struct Options;                           // aggregate, defaults = the template arguments
//   Policy(); explicit Policy(Options);       // run-time override of the defaults
//   const Options& options() const;
// plus the family's interface below. docs/optimizers.md, schedules.md, regularizers.md and
// stopping.md describe the built-in policies and how to write one.
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/error.hpp"
#include "ctnn/train/segment.hpp"

namespace ctnn {

// ---------------------------------------------------------------------------------------------
// Values the Trainer hands to the policies.

// Where training is, for a schedule. The trainer fills one per batch.
struct ScheduleClock {
  double base_lr = 0.0;              // the trainer config's learning rate
  std::size_t epoch = 0;             // 0-based
  std::size_t step_in_epoch = 0;     // 0-based batch index within the epoch
  std::size_t steps_per_epoch = 0;   // batches per epoch (0: unknown; per-batch schedules refuse)
  std::size_t total_epochs = 0;      // the trainer's max_epochs

  // Batches done before this one since training began.
  constexpr std::size_t step() const { return epoch * steps_per_epoch + step_in_epoch; }
  constexpr std::size_t total_steps() const { return total_epochs * steps_per_epoch; }
};

// What an epoch produced, for a stopping rule. Accuracies are fractions in [0, 1].
// val_loss and val_accuracy are only read when has_validation is true.
struct EpochMetrics {
  std::size_t epoch = 0;  // 0-based
  double train_loss = std::numeric_limits<double>::quiet_NaN();
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  bool has_validation = false;
};

// A stopping rule's answer. reason is empty when stop is false.
struct StopDecision {
  bool stop = false;
  std::string reason;

  static StopDecision keep_going() { return {}; }
  static StopDecision stop_training(std::string why) { return {true, std::move(why)}; }
  explicit operator bool() const { return stop; }
};

namespace detail {

// The policy's kind tag, or "" for a type without one.
template <class P>
constexpr std::string_view kind_of() {
  if constexpr (requires { { P::kind } -> std::convertible_to<std::string_view>; })
    return std::string_view(P::kind);
  else
    return {};
}

// True for the four kinds the slot checks know how to name.
constexpr bool is_policy_kind(std::string_view k) {
  return k == "optimizer" || k == "schedule" || k == "regularizer" || k == "stopping rule";
}

// Shortest text that reads back as the same double, laid out as Python's repr does (without
// its ".0"): 0.9, 0.0001, 1e-05, 1e-08, 10, 1e+16.
inline std::string number(double v) {
  char buf[64];
  const double a = v < 0 ? -v : v;
  const bool scientific = a != 0.0 && (a < 1e-4 || a >= 1e16);
  const auto format = scientific ? std::chars_format::scientific : std::chars_format::fixed;
  const auto r = std::to_chars(buf, buf + sizeof buf, v, format);
  return std::string(buf, r.ptr);
}
inline std::string number(std::size_t v) { return std::to_string(v); }
inline std::string number(bool v) { return v ? "true" : "false"; }

// Throws ConfigError(message) unless ok. The const char* overload builds no string unless it
// throws: per-batch checks use it, so steady-state steps do not allocate.
inline void require(bool ok, const char* message) {
  if (!ok) throw ConfigError(message);
}
inline void require(bool ok, const std::string& message) {
  if (!ok) throw ConfigError(message);
}

// The checks every optimizer step makes once per call (never per element).
CTNN_COLD inline void check_optimizer_step(const char* who, std::size_t state_size, std::size_t params,
                                           std::size_t grads, double lr) {
  if (params != grads)
    throw ConfigError(std::string(who) + "::step: " + std::to_string(params) + " parameters but " +
                      std::to_string(grads) + " gradients");
  if (params != state_size)
    throw ConfigError(std::string(who) + "::step: " + std::to_string(params) +
                      " parameters, but the optimizer was sized for " +
                      std::to_string(state_size) + " (call resize(n) once before training)");
  if (!(lr >= 0.0) || lr == std::numeric_limits<double>::infinity())
    throw ConfigError(std::string(who) + "::step: the learning rate must be finite and >= 0, got " +
                      std::to_string(lr));
}

// What every policy has, whatever its family.
template <class P>
concept policy_basics = requires {
  { P::name() } -> std::convertible_to<std::string>;
  typename P::Options;
} && std::default_initializable<P> && std::copy_constructible<P> &&
    std::constructible_from<P, typename P::Options>;

// An optimizer runtime over scalar T (the result of P::rebind<T>).
template <class O, class T>
concept optimizer_over =
    requires(O& o, const O& co, std::size_t n, std::span<T> params, std::span<const T> grads,
             double lr, std::span<const ParameterSegment> segments, std::uint64_t k) {
      o.resize(n);
      o.step(params, grads, lr, segments);
      { co.step_count() } -> std::same_as<std::uint64_t>;
      o.set_step_count(k);
      { o.state_buffers() } -> std::same_as<std::vector<std::span<T>>>;
      { co.state_names() } -> std::same_as<std::vector<std::string_view>>;
    };

// A regularizer over scalar T.
template <class R, class T>
concept regularizer_over =
    requires(R& r, const R& cr, std::span<T> params, std::span<const T> cparams,
             std::span<T> grads, double lr, std::span<const ParameterSegment> segments) {
      r.before_step(params, grads, lr, segments);
      r.after_step(params, lr, segments);
      { cr.penalty(cparams, segments) } -> std::same_as<double>;
    };

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The concepts.

// An optimizer: state sized once by resize(n), then step() on the flat parameter and gradient
// arrays. The policy is a class template whose last parameter is the scalar type; the Trainer
// uses P::rebind<T> for the model's T, constructed from the user's Options.
//   void resize(std::size_t n);                 // zeroed state for n parameters, step_count 0
//   void step(std::span<T> params, std::span<const T> grads, double lr,
//             std::span<const ParameterSegment> segments);
//   std::uint64_t step_count() const;  void set_step_count(std::uint64_t);
//   std::vector<std::span<T>> state_buffers();  // each of size n, order of state_names()
//   std::vector<std::string_view> state_names() const;
template <class P>
concept Optimizer = (detail::kind_of<P>() == std::string_view("optimizer")) &&
                    detail::policy_basics<P> && requires {
                      typename P::template rebind<float>;
                      typename P::template rebind<double>;
                    } && detail::optimizer_over<typename P::template rebind<float>, float> &&
                    detail::optimizer_over<typename P::template rebind<double>, double> &&
                    std::constructible_from<typename P::template rebind<float>,
                                            typename P::Options> &&
                    std::constructible_from<typename P::template rebind<double>,
                                            typename P::Options>;

// The optimizer runtime the Trainer holds for scalar T.
template <Optimizer P, class T>
using optimizer_for = typename P::template rebind<T>;

// A schedule: the learning rate for each batch, a pure function of the clock and of the state
// that end_epoch() updates (ReduceOnPlateau). state()/set_state() save and restore that state as
// plain numbers for checkpoints (empty for stateless schedules).
//   double learning_rate(const ScheduleClock&) const;
//   void end_epoch(double val_loss);
//   std::vector<double> state() const;  void set_state(std::span<const double>);
template <class P>
concept Schedule = (detail::kind_of<P>() == std::string_view("schedule")) &&
                   detail::policy_basics<P> &&
                   requires(P& s, const P& cs, const ScheduleClock& clock, double loss,
                            std::span<const double> saved) {
                     { cs.learning_rate(clock) } -> std::same_as<double>;
                     s.end_epoch(loss);
                     { cs.state() } -> std::same_as<std::vector<double>>;
                     s.set_state(saved);
                   };

// A regularizer: before_step() runs after backward and before the optimizer (it may add to the
// gradients, L1/L2, or shrink the parameters, decoupled weight decay); after_step() runs after
// the optimizer; penalty() is the term it adds to the reported loss.
//   template <class T> void before_step(std::span<T> params, std::span<T> grads, double lr,
//                                       std::span<const ParameterSegment>);
//   template <class T> void after_step(std::span<T> params, double lr,
//                                      std::span<const ParameterSegment>);
//   template <class T> double penalty(std::span<const T> params,
//                                     std::span<const ParameterSegment>) const;
template <class P>
concept Regularizer = (detail::kind_of<P>() == std::string_view("regularizer")) &&
                      detail::policy_basics<P> && detail::regularizer_over<P, float> &&
                      detail::regularizer_over<P, double>;

// A stopping rule: asked after every epoch, and after every batch with that batch's loss.
//   StopDecision update(const EpochMetrics&);
//   StopDecision check_step(double batch_loss) const;
//   std::vector<double> state() const;  void set_state(std::span<const double>);
template <class P>
concept StoppingRule = (detail::kind_of<P>() == std::string_view("stopping rule")) &&
                       detail::policy_basics<P> &&
                       requires(P& r, const P& cr, const EpochMetrics& metrics, double loss,
                                std::span<const double> saved) {
                         { r.update(metrics) } -> std::same_as<StopDecision>;
                         { cr.check_step(loss) } -> std::same_as<StopDecision>;
                         { cr.state() } -> std::same_as<std::vector<double>>;
                         r.set_state(saved);
                       };

// A stopping rule that tracks the best epoch (EarlyStopping, AnyOf containing one), so the
// Trainer can keep a copy of the best weights: improved() is true when the epoch just passed to
// update() is the new best.
template <class P>
concept TracksBest = StoppingRule<P> && requires(const P& r) {
  { r.improved() } -> std::same_as<bool>;
  { r.best_epoch() } -> std::same_as<std::size_t>;
};

// ---------------------------------------------------------------------------------------------
// Stand-ins a failed slot check hands on, so one wrong argument gives one error, not a cascade.
namespace detail {

struct placeholder_optimizer_options {};

template <class T = float>
struct placeholder_optimizer {
  static constexpr std::string_view kind = "optimizer";
  CTNN_COLD static std::string name() { return "placeholder_optimizer"; }
  using Options = placeholder_optimizer_options;
  template <class U> using rebind = placeholder_optimizer<U>;
  placeholder_optimizer() = default;
  explicit placeholder_optimizer(Options) {}
  const Options& options() const { return options_; }
  void resize(std::size_t) {}
  void step(std::span<T>, std::span<const T>, double, std::span<const ParameterSegment>) {}
  std::uint64_t step_count() const { return 0; }
  void set_step_count(std::uint64_t) {}
  std::vector<std::span<T>> state_buffers() { return {}; }
  std::vector<std::string_view> state_names() const { return {}; }
  Options options_;
};

struct placeholder_schedule {
  static constexpr std::string_view kind = "schedule";
  CTNN_COLD static std::string name() { return "placeholder_schedule"; }
  struct Options {};
  placeholder_schedule() = default;
  explicit placeholder_schedule(Options) {}
  Options options() const { return {}; }
  double learning_rate(const ScheduleClock& c) const { return c.base_lr; }
  void end_epoch(double) {}
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double>) {}
};

struct placeholder_regularizer {
  static constexpr std::string_view kind = "regularizer";
  CTNN_COLD static std::string name() { return "placeholder_regularizer"; }
  struct Options {};
  placeholder_regularizer() = default;
  explicit placeholder_regularizer(Options) {}
  Options options() const { return {}; }
  template <class T>
  void before_step(std::span<T>, std::span<T>, double, std::span<const ParameterSegment>) {}
  template <class T>
  void after_step(std::span<T>, double, std::span<const ParameterSegment>) {}
  template <class T>
  double penalty(std::span<const T>, std::span<const ParameterSegment>) const { return 0.0; }
};

struct placeholder_stopping {
  static constexpr std::string_view kind = "stopping rule";
  CTNN_COLD static std::string name() { return "placeholder_stopping"; }
  struct Options {};
  placeholder_stopping() = default;
  explicit placeholder_stopping(Options) {}
  Options options() const { return {}; }
  StopDecision update(const EpochMetrics&) { return {}; }
  StopDecision check_step(double) const { return {}; }
  std::vector<double> state() const { return {}; }
  void set_state(std::span<const double>) {}
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Slot checks. The Trainer names check_X_slot<P>::type instead of P. On a bad P the compiler's
// first lines are "In instantiation of 'struct ctnn::check_optimizer_slot<YourType>'" and then
// one of the messages below; ::type is then a do-nothing stand-in so no further errors follow.

// check_optimizer_slot<P>: the Trainer's 3rd argument.
template <class P>
struct check_optimizer_slot {
  static constexpr bool ok = Optimizer<P>;
  static constexpr std::string_view got = detail::kind_of<P>();
  static constexpr bool given_an_incomplete_optimizer = !ok && got == "optimizer";
  static constexpr bool given_a_schedule = !ok && got == "schedule";
  static constexpr bool given_a_regularizer = !ok && got == "regularizer";
  static constexpr bool given_a_stopping_rule = !ok && got == "stopping rule";
  static constexpr bool given_a_non_policy = !ok && !detail::is_policy_kind(got);
  static_assert(!given_a_schedule,  // a schedule was given where the optimizer goes
                "Trainer's 3rd argument (the optimizer slot) expects an optimizer such as "
                "ctnn::Adam<> or ctnn::Sgd<>; got a schedule: schedules go in the 4th argument");
  static_assert(!given_a_regularizer,  // a regularizer was given where the optimizer goes
                "Trainer's 3rd argument (the optimizer slot) expects an optimizer such as "
                "ctnn::Adam<> or ctnn::Sgd<>; got a regularizer: regularizers go in the 5th "
                "argument");
  static_assert(!given_a_stopping_rule,  // a stopping rule was given for the optimizer
                "Trainer's 3rd argument (the optimizer slot) expects an optimizer such as "
                "ctnn::Adam<> or ctnn::Sgd<>; got a stopping rule: stopping rules go in the 6th "
                "argument");
  static_assert(!given_an_incomplete_optimizer,  // kind is optimizer; interface incomplete
                "Trainer's 3rd argument (the optimizer slot) says kind = \"optimizer\" but lacks "
                "part of the optimizer interface (name(), Options, rebind<T>, resize, step, "
                "step_count, set_step_count, state_buffers, state_names): see docs/optimizers.md");
  static_assert(!given_a_non_policy,  // not a ctnn policy at all
                "Trainer's 3rd argument (the optimizer slot) expects an optimizer such as "
                "ctnn::Adam<> or ctnn::Sgd<>; got a type that is not an optimizer "
                "(see docs/optimizers.md)");
  using type = std::conditional_t<ok, P, detail::placeholder_optimizer<>>;
};

// check_schedule_slot<P>: the Trainer's 4th argument.
template <class P>
struct check_schedule_slot {
  static constexpr bool ok = Schedule<P>;
  static constexpr std::string_view got = detail::kind_of<P>();
  static constexpr bool given_an_optimizer = !ok && got == "optimizer";
  static constexpr bool given_an_incomplete_schedule = !ok && got == "schedule";
  static constexpr bool given_a_regularizer = !ok && got == "regularizer";
  static constexpr bool given_a_stopping_rule = !ok && got == "stopping rule";
  static constexpr bool given_a_non_policy = !ok && !detail::is_policy_kind(got);
  static_assert(!given_an_optimizer,  // an optimizer was given where the schedule goes
                "Trainer's 4th argument (the schedule slot) expects a schedule such as "
                "ctnn::Constant or ctnn::Warmup<2, ctnn::CosineDecay<>>; got an optimizer: "
                "optimizers go in the 3rd argument");
  static_assert(!given_a_regularizer,  // a regularizer was given where the schedule goes
                "Trainer's 4th argument (the schedule slot) expects a schedule such as "
                "ctnn::Constant or ctnn::Warmup<2, ctnn::CosineDecay<>>; got a regularizer: "
                "regularizers go in the 5th argument");
  static_assert(!given_a_stopping_rule,  // a stopping rule was given for the schedule
                "Trainer's 4th argument (the schedule slot) expects a schedule such as "
                "ctnn::Constant or ctnn::Warmup<2, ctnn::CosineDecay<>>; got a stopping rule: "
                "stopping rules go in the 6th argument");
  static_assert(!given_an_incomplete_schedule,  // kind is schedule; interface incomplete
                "Trainer's 4th argument (the schedule slot) says kind = \"schedule\" but lacks "
                "part of the schedule interface (name(), Options, learning_rate(clock) const, "
                "end_epoch, state, set_state): see docs/schedules.md");
  static_assert(!given_a_non_policy,  // not a ctnn policy at all
                "Trainer's 4th argument (the schedule slot) expects a schedule such as "
                "ctnn::Constant or ctnn::CosineDecay<>; got a type that is not a schedule "
                "(see docs/schedules.md)");
  using type = std::conditional_t<ok, P, detail::placeholder_schedule>;
};

// check_regularizer_slot<P>: the Trainer's 5th argument.
template <class P>
struct check_regularizer_slot {
  static constexpr bool ok = Regularizer<P>;
  static constexpr std::string_view got = detail::kind_of<P>();
  static constexpr bool given_an_optimizer = !ok && got == "optimizer";
  static constexpr bool given_a_schedule = !ok && got == "schedule";
  static constexpr bool given_an_incomplete_regularizer = !ok && got == "regularizer";
  static constexpr bool given_a_stopping_rule = !ok && got == "stopping rule";
  static constexpr bool given_a_non_policy = !ok && !detail::is_policy_kind(got);
  static_assert(!given_an_optimizer,  // an optimizer was given where the regularizer goes
                "Trainer's 5th argument (the regularizer slot) expects a regularizer such as "
                "ctnn::NoRegularizer or ctnn::WeightDecay<1e-4>; got an optimizer: optimizers go "
                "in the 3rd argument");
  static_assert(!given_a_schedule,  // a schedule was given where the regularizer goes
                "Trainer's 5th argument (the regularizer slot) expects a regularizer such as "
                "ctnn::NoRegularizer or ctnn::WeightDecay<1e-4>; got a schedule: schedules go in "
                "the 4th argument");
  static_assert(!given_a_stopping_rule,  // a stopping rule was given for the regularizer
                "Trainer's 5th argument (the regularizer slot) expects a regularizer such as "
                "ctnn::NoRegularizer or ctnn::WeightDecay<1e-4>; got a stopping rule: stopping "
                "rules go in the 6th argument");
  static_assert(!given_an_incomplete_regularizer,  // kind says regularizer, interface incomplete
                "Trainer's 5th argument (the regularizer slot) says kind = \"regularizer\" but "
                "lacks part of the regularizer interface (name(), Options, before_step, "
                "after_step, penalty for float and double): see docs/regularizers.md");
  static_assert(!given_a_non_policy,  // not a ctnn policy at all
                "Trainer's 5th argument (the regularizer slot) expects a regularizer such as "
                "ctnn::NoRegularizer or ctnn::L2<1e-4>; got a type that is not a regularizer "
                "(see docs/regularizers.md)");
  using type = std::conditional_t<ok, P, detail::placeholder_regularizer>;
};

// check_stopping_slot<P>: the Trainer's 6th argument.
template <class P>
struct check_stopping_slot {
  static constexpr bool ok = StoppingRule<P>;
  static constexpr std::string_view got = detail::kind_of<P>();
  static constexpr bool given_an_optimizer = !ok && got == "optimizer";
  static constexpr bool given_a_schedule = !ok && got == "schedule";
  static constexpr bool given_a_regularizer = !ok && got == "regularizer";
  static constexpr bool given_an_incomplete_stopping = !ok && got == "stopping rule";
  static constexpr bool given_a_non_policy = !ok && !detail::is_policy_kind(got);
  static_assert(!given_an_optimizer,  // an optimizer was given where the stopping rule goes
                "Trainer's 6th argument (the stopping slot) expects a stopping rule such as "
                "ctnn::MaxEpochs or ctnn::EarlyStopping<5>; got an optimizer: optimizers go in "
                "the 3rd argument");
  static_assert(!given_a_schedule,  // a schedule was given where the stopping rule goes
                "Trainer's 6th argument (the stopping slot) expects a stopping rule such as "
                "ctnn::MaxEpochs or ctnn::EarlyStopping<5>; got a schedule: schedules go in the "
                "4th argument");
  static_assert(!given_a_regularizer,  // a regularizer was given for the stopping rule
                "Trainer's 6th argument (the stopping slot) expects a stopping rule such as "
                "ctnn::MaxEpochs or ctnn::EarlyStopping<5>; got a regularizer: regularizers go "
                "in the 5th argument");
  static_assert(!given_an_incomplete_stopping,  // kind says stopping rule, interface incomplete
                "Trainer's 6th argument (the stopping slot) says kind = \"stopping rule\" but "
                "lacks part of the stopping-rule interface (name(), Options, update, check_step, "
                "state, set_state): see docs/stopping.md");
  static_assert(!given_a_non_policy,  // not a ctnn policy at all
                "Trainer's 6th argument (the stopping slot) expects a stopping rule such as "
                "ctnn::MaxEpochs or ctnn::EarlyStopping<5>; got a type that is not a stopping "
                "rule (see docs/stopping.md)");
  using type = std::conditional_t<ok, P, detail::placeholder_stopping>;
};

template <class P> using optimizer_slot_t = typename check_optimizer_slot<P>::type;
template <class P> using schedule_slot_t = typename check_schedule_slot<P>::type;
template <class P> using regularizer_slot_t = typename check_regularizer_slot<P>::type;
template <class P> using stopping_slot_t = typename check_stopping_slot<P>::type;

}  // namespace ctnn
