#pragma once
// ctnn::Trainer: minibatch training with policies passed as template parameters.
//
//   using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<2, CosineDecay<>>,
//                         WeightDecay<1e-4>, EarlyStopping<5>>;
//   History h = Train{{.learning_rate = 1e-3, .batch_size = 64, .max_epochs = 30}}.fit(net, train, val);
//
// Every slot is checked by a concept (train/concepts.hpp): a policy in the wrong slot is one
// short compile error naming the slot. Policy hyperparameters default to their template
// arguments and can be overridden at run time through their Options, so one compiled program can
// sweep them. Per batch: forward, loss, backward, regularizer, optimizer step. Per epoch:
// validation, history record, schedule and stopping rule; the best weights are kept.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/data/batches.hpp"
#include "ctnn/data/dataset.hpp"
#include "ctnn/error.hpp"
#include "ctnn/loss/softmax_cross_entropy.hpp"
#include "ctnn/random.hpp"
#include "ctnn/shape/shape.hpp"
#include "ctnn/train/adam.hpp"
#include "ctnn/train/rmsprop.hpp"
#include "ctnn/train/sgd.hpp"
#include "ctnn/train/concepts.hpp"
#include "ctnn/train/distributed.hpp"
#include "ctnn/train/history.hpp"
#include "ctnn/train/progress.hpp"
#include "ctnn/train/regularizers.hpp"
#include "ctnn/train/schedules.hpp"
#include "ctnn/train/stopping.hpp"

namespace ctnn {

// Run-time settings of a training run. Every one is checked before training starts.
struct TrainConfig {
  double learning_rate = 1e-3;      // base rate; the schedule scales it
  std::size_t batch_size = 32;      // global batch (split over ranks when distributed)
  std::size_t max_epochs = 10;
  std::uint64_t seed = 1;           // shuffling order
  bool shuffle = true;
  bool restore_best_weights = true; // on early stopping and divergence, go back to the best epoch
  int verbose = 1;                  // 0: silent, 1: one line per epoch (+ bar on a terminal)
  std::ostream* out = &std::cout;   // where progress goes
  std::size_t eval_batch_size = 256;
  // Checkpoints: every `checkpoint_every` epochs to `checkpoint_path` (0 or empty: none).
  std::size_t checkpoint_every = 0;
  std::string checkpoint_path;
  // Data parallelism: null for one process (see train/distributed.hpp).
  Distributed* distributed = nullptr;
};

// Loss and accuracy of a net over a dataset in inference mode.
struct Evaluation {
  double loss = std::numeric_limits<double>::quiet_NaN();
  double accuracy = std::numeric_limits<double>::quiet_NaN();
};

template <class Loss, class NetT>
Evaluation evaluate(NetT& net, const data::Dataset& dataset, std::size_t batch_size = 256) {
  using T = typename NetT::scalar_type;
  constexpr std::size_t classes = NetT::output_shape::size;
  if (dataset.empty()) return {};
  const std::size_t in = NetT::input_shape::size;
  std::vector<T> converted;
  double loss = 0;
  std::size_t correct = 0;
  const float* images = dataset.images().data();
  const std::int32_t* labels = dataset.labels().data();
  for (std::size_t start = 0; start < dataset.size(); start += batch_size) {
    const std::size_t n = std::min(batch_size, dataset.size() - start);
    const T* x;
    if constexpr (std::is_same_v<T, float>) {
      x = images + start * in;
    } else {
      converted.assign(images + start * in, images + (start + n) * in);
      x = converted.data();
    }
    const T* y = net.predict(x, n);
    loss += double(Loss::forward(y, labels + start, n, classes, static_cast<T*>(nullptr))) * double(n);
    correct += count_correct(y, labels + start, n, classes);
  }
  return {loss / double(dataset.size()), double(correct) / double(dataset.size())};
}

template <class Model, class Loss, class OptimizerPolicy = Adam<>, class SchedulePolicy = Constant,
          class RegularizerPolicy = NoRegularizer, class StoppingPolicy = MaxEpochs>
class Trainer {
 public:
  using model_type = Model;
  using scalar_type = typename Model::scalar_type;
  using optimizer_policy = optimizer_slot_t<OptimizerPolicy>;
  using schedule_type = schedule_slot_t<SchedulePolicy>;
  using regularizer_type = regularizer_slot_t<RegularizerPolicy>;
  using stopping_type = stopping_slot_t<StoppingPolicy>;
  using optimizer_type = optimizer_for<optimizer_policy, scalar_type>;

  struct PolicyOptions {
    typename optimizer_policy::Options optimizer{};
    typename schedule_type::Options schedule{};
    typename regularizer_type::Options regularizer{};
    typename stopping_type::Options stopping{};
  };

  explicit Trainer(TrainConfig config = {}, PolicyOptions policies = {})
      : config_(config), policies_(policies) {}

  const TrainConfig& config() const { return config_; }
  TrainConfig& config() { return config_; }
  const PolicyOptions& policies() const { return policies_; }
  PolicyOptions& policies() { return policies_; }

  // Trains `net` on `train`, validating on `validation` after every epoch (may be empty only
  // with a stopping rule that does not watch validation metrics). Returns the history; the net
  // holds the best weights when restore_best_weights and the run stopped early or diverged.
  History fit(Model& net, const data::Dataset& train, const data::Dataset& validation) {
    Run run(*this, net, train, validation);
    return run.go();
  }

  // The run-time checks fit() makes before any work: settings, sample shapes, labels and the
  // validation set. Throws ConfigError naming the setting. Other trainers (cuda::Trainer) reuse it.
  static void check(const TrainConfig& config, const data::Dataset& train,
                    const data::Dataset& validation) {
    Run::checked(config, train, validation);
  }

  // Continues a run from a checkpoint written by fit() (see io/checkpoint.hpp).
  History resume(Model& net, const data::Dataset& train, const data::Dataset& validation,
                 const std::string& checkpoint_path);

  // The state of a run between two epochs: everything a checkpoint holds.
  struct State {
    std::size_t next_epoch = 0;  // 0-based index of the epoch to run next
    std::vector<scalar_type> best_parameters, best_buffers;
    std::size_t best_epoch = 0;
    double best_val_loss = std::numeric_limits<double>::infinity();
    bool has_best = false;
    History history;
  };

 private:
  template <class>
  friend struct CheckpointAccess;

  // One training run: the policies' state, the data order and the history.
  struct Run {
    Trainer& trainer;
    Model& net;
    const data::Dataset& train;
    const data::Dataset& validation;
    TrainConfig cfg;
    optimizer_type optimizer;
    schedule_type schedule;
    regularizer_type regularizer;
    stopping_type stopping;
    data::Batches batches;
    Rng shuffle_rng;
    State state;
    std::vector<scalar_type> converted, grad, initial_parameters, initial_buffers;

    Run(Trainer& t, Model& n, const data::Dataset& tr, const data::Dataset& va)
        : trainer(t), net(n), train(tr), validation(va), cfg(t.config_),
          optimizer(t.policies_.optimizer), schedule(t.policies_.schedule),
          regularizer(t.policies_.regularizer), stopping(t.policies_.stopping),
          batches(checked(t.config_, tr, va), t.config_.batch_size), shuffle_rng(t.config_.seed) {
      optimizer.resize(Model::parameter_count);
    }

    // Validates everything before any work, naming the bad setting.
    CTNN_COLD static const data::Dataset& checked(const TrainConfig& c, const data::Dataset& tr,
                                                  const data::Dataset& va) {
      auto fail = [](const std::string& m) { throw ConfigError("Trainer: " + m); };
      if (c.batch_size == 0) fail("batch_size must be at least 1, got 0");
      if (!std::isfinite(c.learning_rate) || c.learning_rate <= 0)
        // detail::number: "-1e-07", "nan" (std::to_string printed "-0.000000" for tiny rates).
        fail("learning_rate must be a finite number > 0, got " + detail::number(c.learning_rate));
      if (c.max_epochs == 0) fail("max_epochs must be at least 1, got 0");
      if (c.eval_batch_size == 0) fail("eval_batch_size must be at least 1, got 0");
      if (c.checkpoint_every > 0 && c.checkpoint_path.empty())
        fail("checkpoint_every is set but checkpoint_path is empty");
      if (tr.empty()) fail("the training set is empty");
      check_data("training set", tr);
      if (!va.empty()) {
        check_data("validation set", va);
        const auto& labels = va.labels();
        if (std::all_of(labels.begin(), labels.end(), [&](auto l) { return l == labels.front(); }))
          fail("the validation set holds a single class (" + std::to_string(labels.front()) +
               "): its accuracy would say nothing; split with another seed or a larger fraction");
      } else if (requires_validation()) {
        fail("the validation set is empty, but " + stopping_type::name() +
             " watches validation metrics");
      }
      return tr;
    }

    CTNN_COLD static void check_data(const std::string& what, const data::Dataset& d) {
      using In = typename Model::input_shape;
      const auto shape = d.sample_shape();
      std::vector<std::size_t> expected(In::dims.begin(), In::dims.end());
      std::vector<std::size_t> got(shape.begin(), shape.end());
      // A flat input accepts images of the same size (Input<784> reads 1x28x28).
      const bool flat_ok = In::rank == 1 && d.sample_size() == In::size;
      if (got != expected && !flat_ok)
        throw ConfigError("Trainer: the " + what + "'s samples have shape " + dims_name(got) +
                          " but the model's input_shape is " + shape_name<In>());
      constexpr std::size_t classes = Model::output_shape::size;
      for (std::size_t i = 0; i < d.size(); ++i) {
        const auto label = d.labels()[i];
        if (label < 0 || std::size_t(label) >= classes)
          throw ConfigError("Trainer: the " + what + " has label " + std::to_string(label) +
                            " at sample " + std::to_string(i) + ", outside the model's " +
                            std::to_string(classes) + " outputs");
      }
    }

    CTNN_COLD static std::string dims_name(const std::vector<std::size_t>& dims) {
      std::string out = "(";
      for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
      return out + ")";
    }

    static constexpr bool requires_validation() {
      return !std::is_same_v<stopping_type, MaxEpochs> && !std::is_same_v<stopping_type, StopOnNaN>;
    }

    bool primary() const { return !cfg.distributed || cfg.distributed->rank() == 0; }

    History go() {
      std::optional<ProgressPrinter> progress;
      if (cfg.verbose > 0 && primary()) progress.emplace(cfg.max_epochs, *cfg.out);
      const auto segments = std::span<const ParameterSegment>(Model::parameter_segments());
      constexpr std::size_t classes = Model::output_shape::size;
      constexpr std::size_t in = Model::input_shape::size;
      const std::size_t steps_per_epoch = batches.batches_per_epoch();
      auto params = net.parameters();
      auto grads = net.gradients();
      grad.resize(cfg.batch_size * classes);
      // Every rank starts from the same seed; without this each rank would draw rank 0's dropout
      // masks for its own slice (samples i and i + count of a batch dropping alike).
      if (cfg.distributed && cfg.distributed->rank() > 0) {
        Rng& r = net.rng();
        r.reseed(r.next() ^ (0x9E3779B97F4A7C15ull * std::uint64_t(cfg.distributed->rank())));
      }
      // Divergence before the first finite epoch goes back to these.
      initial_parameters.assign(params.begin(), params.end());
      initial_buffers.assign(net.buffers().begin(), net.buffers().end());

      for (std::size_t epoch = state.next_epoch; epoch < cfg.max_epochs; ++epoch) {
        const auto started = std::chrono::steady_clock::now();
        if (progress) progress->begin_epoch(epoch);
        batches.start_epoch(cfg.shuffle ? &shuffle_rng : nullptr);
        double loss_sum = 0, lr = cfg.learning_rate;
        std::size_t seen = 0, correct = 0, step = 0;
        data::Batch batch;
        while (batches.next(batch)) {
          lr = schedule.learning_rate({cfg.learning_rate, epoch, step, steps_per_epoch, cfg.max_epochs});
          // This rank's slice of the global batch.
          std::size_t first = 0, count = batch.size;
          if (cfg.distributed) std::tie(first, count) = cfg.distributed->shard(batch.size);
          const scalar_type* x = input(batch.images + first * in, count);
          const std::int32_t* labels = batch.labels + first;
          double loss = 0;
          std::size_t hits = 0;
          if (count > 0) {
            const scalar_type* y = net.forward_train(x, count);
            loss = double(Loss::forward(y, labels, count, classes, grad.data()));
            hits = count_correct(y, labels, count, classes);
            // Each rank's gradient is the mean over its slice; weight it so the allreduce sum is
            // the mean over the global batch, exactly as on one process.
            // A single process owns the whole batch (weight 1): no pass over the gradient.
            if (count != batch.size) {
              const scalar_type weight = scalar_type(double(count) / double(batch.size));
              for (std::size_t i = 0; i < count * classes; ++i) grad[i] *= weight;
            }
            net.backward(grad.data());
          } else {
            // A global batch smaller than the number of ranks (an epoch's last) leaves this
            // rank no samples: it adds nothing to the sums.
            std::fill(grads.begin(), grads.end(), scalar_type(0));
          }
          if (cfg.distributed) {
            cfg.distributed->sum(grads);
            double metrics[2] = {loss * double(count), double(hits)};
            cfg.distributed->sum(std::span<double>(metrics));
            loss = metrics[0] / double(batch.size);
            hits = std::size_t(metrics[1]);
          }
          if (!std::isfinite(loss)) return diverge(epoch, step, loss, progress);
          if (auto d = stopping.check_step(loss); d.stop) return diverge(epoch, step, loss, progress);
          regularizer.before_step(params, grads, lr, segments);
          optimizer.step(params, std::span<const scalar_type>(grads), lr, segments);
          regularizer.after_step(params, lr, segments);
          loss_sum += loss * double(batch.size);
          correct += hits;
          seen += batch.size;
          ++step;
          if (progress) progress->update(step, steps_per_epoch, loss_sum / double(seen), double(correct) / double(seen));
        }

        EpochRecord record;
        record.epoch = epoch;
        record.train_loss = loss_sum / double(seen) + regularizer.penalty(std::span<const scalar_type>(params), segments);
        record.train_accuracy = double(correct) / double(seen);
        // BatchNorm running statistics follow each rank's own slices: average them so that every
        // rank evaluates, stops and checkpoints alike.
        if (cfg.distributed && !net.buffers().empty()) {
          cfg.distributed->sum(net.buffers());
          const scalar_type share = scalar_type(1) / scalar_type(cfg.distributed->size());
          for (auto& b : net.buffers()) b *= share;
        }
        const Evaluation val = evaluate<Loss>(net, validation, cfg.eval_batch_size);
        record.val_loss = val.loss;
        record.val_accuracy = val.accuracy;
        record.learning_rate = lr;
        record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        state.history.add(record);
        if (progress) progress->end_epoch(record);

        EpochMetrics metrics{epoch, record.train_loss, record.train_accuracy, val.loss, val.accuracy,
                             !validation.empty()};
        // At the end of the epoch the last step was `step - 1` (diverge() prints it 1-based), and
        // the loss worth reporting is the one that is not finite.
        if (!std::isfinite(record.train_loss) || (!validation.empty() && !std::isfinite(val.loss)))
          return diverge(epoch, step - 1, std::isfinite(record.train_loss) ? val.loss : record.train_loss, progress);
        schedule.end_epoch(validation.empty() ? record.train_loss : val.loss);
        StopDecision decision = stopping.update(metrics);
        remember_best(epoch, val.loss);
        state.next_epoch = epoch + 1;
        if (decision.stop) {
          state.history.set_stop_reason(decision.reason);
          if (progress) progress->message(decision.reason);
          finish(cfg.restore_best_weights);
          return state.history;
        }
        if (cfg.checkpoint_every > 0 && (epoch + 1) % cfg.checkpoint_every == 0 && primary())
          trainer.write_checkpoint(*this);
      }
      state.history.set_stop_reason("reached max_epochs (" + std::to_string(cfg.max_epochs) + ")");
      finish(false);
      return state.history;
    }

    const scalar_type* input(const float* images, std::size_t count) {
      if constexpr (std::is_same_v<scalar_type, float>) {
        return images;
      } else {
        converted.assign(images, images + count * Model::input_shape::size);
        return converted.data();
      }
    }

    // The best epoch so far: the stopping rule's when it tracks one (after update()), else the
    // lowest validation loss (training loss without validation data).
    void remember_best(std::size_t epoch, double val_loss) {
      bool better;
      if constexpr (TracksBest<stopping_type>) {
        better = stopping.improved();
      } else {
        const double watched = validation.empty() ? state.history.epochs().back().train_loss : val_loss;
        better = !state.has_best || watched < state.best_val_loss;
        if (better) state.best_val_loss = watched;
      }
      if (better) snapshot(epoch);
    }

    void snapshot(std::size_t epoch) {
      state.best_parameters.assign(net.parameters().begin(), net.parameters().end());
      state.best_buffers.assign(net.buffers().begin(), net.buffers().end());
      state.best_epoch = epoch;
      state.has_best = true;
    }

    // Restores the best weights when asked and records the best epoch in the history.
    void finish(bool restore) {
      if (state.has_best) {
        state.history.set_best_epoch(state.best_epoch);
        if (restore) {
          std::copy(state.best_parameters.begin(), state.best_parameters.end(), net.parameters().begin());
          std::copy(state.best_buffers.begin(), state.best_buffers.end(), net.buffers().begin());
        }
      }
    }

    CTNN_COLD History diverge(std::size_t epoch, std::size_t step, double loss, std::optional<ProgressPrinter>& progress) {
      const std::string reason = "diverged at epoch " + std::to_string(epoch + 1) + ", step " +
                                 std::to_string(step + 1) + " (loss " + std::to_string(loss) + ")" +
                                 (state.has_best ? "; kept the weights of epoch " + std::to_string(state.best_epoch + 1)
                                                 : "; restored the initial weights");
      state.history.set_diverged(true);
      state.history.set_stop_reason(reason);
      if (progress) progress->message(reason);
      finish(true);  // never leave NaN weights behind
      if (!state.has_best) {
        std::copy(initial_parameters.begin(), initial_parameters.end(), net.parameters().begin());
        std::copy(initial_buffers.begin(), initial_buffers.end(), net.buffers().begin());
      }
      return state.history;
    }

  };

  void write_checkpoint(Run& run);

  TrainConfig config_;
  PolicyOptions policies_;
};

}  // namespace ctnn

#include "ctnn/train/checkpoint.hpp"
