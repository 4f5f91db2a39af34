#pragma once
// ctnn::cuda::Trainer: ctnn::Trainer's minibatch loop with the net on an NVIDIA GPU. Same
// template arguments, same TrainConfig and PolicyOptions, same History; switching a program to
// the GPU is one name:
//
//   using Train = ctnn::Trainer<Model, SoftmaxCrossEntropy, Adam<>, CosineDecay<>>;        // CPU
//   using Train = ctnn::cuda::Trainer<Model, SoftmaxCrossEntropy, Adam<>, CosineDecay<>>;  // GPU
//   History h = Train{{.learning_rate = 1e-3, .batch_size = 64, .max_epochs = 10}}.fit(net, train, val);
//
// fit(net, ...) copies the net to the device, trains there and copies the (best) parameters,
// buffers and Rng state back. Per batch only the images and labels go to the device and two
// numbers (loss sum, correct count) come back; the forward and backward passes, the loss and its
// gradient, the regularizer and the optimizer step all run on the device. Schedules and stopping
// rules run on the host, as they only see the learning rate and the metrics.
//
// Not on the device yet (a ConfigError says so before any work): checkpoints
// (TrainConfig::checkpoint_every) and data parallelism (TrainConfig::distributed).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/cuda/device_net.hpp"
#include "ctnn/cuda/optimizers.hpp"
#include "ctnn/data/batches.hpp"
#include "ctnn/data/dataset.hpp"
#include "ctnn/error.hpp"
#include "ctnn/kernels/cuda/kernels.hpp"
#include "ctnn/loss/mean_squared_error.hpp"
#include "ctnn/loss/softmax_cross_entropy.hpp"
#include "ctnn/train/trainer.hpp"

namespace ctnn::cuda {

// ---------------------------------------------------------------------------------------------
// Losses on the device: device_loss<Loss>::run(outputs, labels, batch, classes, grad, metrics)
// adds the batch's loss sum and correct count to metrics (device, 2 doubles).
template <class Loss>
struct device_loss {
  static_assert(detail::no_device_policy<Loss>,  // this loss has no CUDA version
                "ctnn::cuda: this loss has no device version; the CUDA backend runs "
                "SoftmaxCrossEntropy and MeanSquaredError (docs/cuda.md)");
  static void run(const float*, const std::int32_t*, std::size_t, std::size_t, float*, double*) {}
};
template <>
struct device_loss<SoftmaxCrossEntropy> {
  static void run(const float* out, const std::int32_t* labels, std::size_t batch,
                  std::size_t classes, float* grad, double* metrics) {
    kernels::cuda::softmax_cross_entropy(out, labels, batch, classes, grad, metrics);
  }
};
template <>
struct device_loss<MeanSquaredError> {
  static void run(const float* out, const std::int32_t* labels, std::size_t batch,
                  std::size_t classes, float* grad, double* metrics) {
    kernels::cuda::mean_squared_error(out, labels, batch, classes, grad, metrics);
  }
};

// Slot-check stand-ins (train/concepts.hpp) get do-nothing twins, so a policy in the wrong slot
// stays one error.
template <class T>
class device_optimizer<ctnn::detail::placeholder_optimizer<T>> {
 public:
  using Options = ctnn::detail::placeholder_optimizer_options;
  static std::string name() { return "placeholder_optimizer"; }
  explicit device_optimizer(Options = {}) {}
  void resize(std::size_t) {}
  void step(float*, const float*, std::size_t, double, std::span<const ParameterSegment> = {}) {}
  std::uint64_t step_count() const { return 0; }
};
template <>
class device_regularizer<ctnn::detail::placeholder_regularizer> {
 public:
  using Options = ctnn::detail::placeholder_regularizer::Options;
  explicit device_regularizer(Options = {}) {}
  void before_step(float*, float*, std::size_t, double, std::span<const ParameterSegment>) {}
  void after_step(float*, std::size_t, double, std::span<const ParameterSegment>) {}
  double penalty(const float*, std::size_t, std::span<const ParameterSegment>) const { return 0.0; }
};

namespace detail {
// Device memory for one batch in: images and labels.
template <class Model>
struct BatchUpload {
  DeviceBuffer<float> images;
  DeviceBuffer<std::int32_t> labels;
  void put(const float* images_host, const std::int32_t* labels_host, std::size_t count) {
    const std::size_t in = Model::input_shape::size;
    images.ensure(std::max<std::size_t>(count, 1) * in);
    labels.ensure(std::max<std::size_t>(count, 1));
    images.upload(images_host, count * in);
    labels.upload(labels_host, count);
  }
};
}  // namespace detail

// Loss and accuracy of a device net over a dataset, in inference mode. The sums stay on the
// device until the end: one copy back for the whole dataset.
template <class Loss, class Model>
Evaluation evaluate(DeviceNet<Model>& net, const data::Dataset& dataset, std::size_t batch_size = 256) {
  constexpr std::size_t classes = Model::output_shape::size, in = Model::input_shape::size;
  if (dataset.empty()) return {};
  if (batch_size == 0) throw ConfigError("cuda::evaluate: batch_size must be at least 1, got 0");
  detail::BatchUpload<Model> upload;
  DeviceBuffer<double> metrics(2);
  metrics.zero();
  const float* images = dataset.images().data();
  const std::int32_t* labels = dataset.labels().data();
  for (std::size_t start = 0; start < dataset.size(); start += batch_size) {
    const std::size_t n = std::min(batch_size, dataset.size() - start);
    upload.put(images + start * in, labels + start, n);
    const float* y = net.predict(upload.images.data(), n);
    device_loss<Loss>::run(y, upload.labels.data(), n, classes, nullptr, metrics.data());
  }
  double sums[2];
  metrics.download(sums, 2);
  // The mean loss rounded to float, as the CPU losses return it (a float overflow is inf).
  return {double(float(sums[0] / double(dataset.size()))), sums[1] / double(dataset.size())};
}

template <class Model, class Loss, class OptimizerPolicy = Adam<>, class SchedulePolicy = Constant,
          class RegularizerPolicy = NoRegularizer, class StoppingPolicy = MaxEpochs>
class Trainer {
  // The CPU trainer's types: slot checks, policy options and defaults are shared.
  using cpu_trainer = ctnn::Trainer<Model, Loss, OptimizerPolicy, SchedulePolicy, RegularizerPolicy,
                                    StoppingPolicy>;

 public:
  using model_type = Model;
  using scalar_type = float;
  using optimizer_policy = typename cpu_trainer::optimizer_policy;
  using schedule_type = typename cpu_trainer::schedule_type;
  using regularizer_type = typename cpu_trainer::regularizer_type;
  using stopping_type = typename cpu_trainer::stopping_type;
  using optimizer_type = device_optimizer<optimizer_policy>;
  using device_regularizer_type = device_regularizer<regularizer_type>;
  using PolicyOptions = typename cpu_trainer::PolicyOptions;

  explicit Trainer(TrainConfig config = {}, PolicyOptions policies = {})
      : config_(config), policies_(policies) {}

  const TrainConfig& config() const { return config_; }
  TrainConfig& config() { return config_; }
  const PolicyOptions& policies() const { return policies_; }
  PolicyOptions& policies() { return policies_; }

  // Trains a copy of `net` on the device and copies the result back into `net` (the best epoch's
  // weights when restore_best_weights and the run stopped early or diverged, as on the CPU).
  History fit(Model& net, const data::Dataset& train, const data::Dataset& validation) {
    check(config_, train, validation);  // before any device work
    DeviceNet<Model> device(net);
    History history = fit(device, train, validation);
    device.download(net);
    return history;
  }

  // Trains a net that already lives on the device; it stays there.
  History fit(DeviceNet<Model>& net, const data::Dataset& train, const data::Dataset& validation) {
    check(config_, train, validation);
    Run run(*this, net, train, validation);
    return run.go();
  }

 private:
  // What the device does not do yet, then the CPU trainer's run-time checks.
  static void check(const TrainConfig& c, const data::Dataset& tr, const data::Dataset& va) {
    auto fail = [](const std::string& m) { throw ConfigError("cuda::Trainer: " + m); };
    if (c.distributed != nullptr)
      fail("data-parallel training (TrainConfig::distributed) is not supported on the GPU yet");
    if (c.checkpoint_every > 0)
      fail("checkpoints (TrainConfig::checkpoint_every) are not written by the GPU trainer yet; "
           "train in shorter fit() calls and save the net between them");
    cpu_trainer::check(c, tr, va);
  }

  // One training run on the device.
  struct Run {
    DeviceNet<Model>& net;
    const data::Dataset& train;
    const data::Dataset& validation;
    TrainConfig cfg;
    optimizer_type optimizer;
    schedule_type schedule;
    device_regularizer_type regularizer;
    stopping_type stopping;
    data::Batches batches;
    Rng shuffle_rng;
    History history;
    detail::BatchUpload<Model> upload;
    DeviceBuffer<float> grad, best_parameters, best_buffers, initial_parameters, initial_buffers;
    DeviceBuffer<double> metrics;
    std::size_t best_epoch = 0;
    double best_val_loss = std::numeric_limits<double>::infinity();
    bool has_best = false;

    Run(Trainer& t, DeviceNet<Model>& n, const data::Dataset& tr, const data::Dataset& va)
        : net(n), train(tr), validation(va), cfg(t.config_), optimizer(t.policies_.optimizer),
          schedule(t.policies_.schedule), regularizer(t.policies_.regularizer),
          stopping(t.policies_.stopping), batches(tr, t.config_.batch_size),
          shuffle_rng(t.config_.seed), metrics(2) {
      optimizer.resize(Model::parameter_count);
      grad.ensure(std::max<std::size_t>(std::min(cfg.batch_size, tr.size()), 1) *
                  Model::output_shape::size);
      best_parameters.ensure(Model::parameter_count);
      best_buffers.ensure(Model::buffer_count);
      initial_parameters.ensure(Model::parameter_count);
      initial_buffers.ensure(Model::buffer_count);
    }

    History go() {
      std::optional<ProgressPrinter> progress;
      if (cfg.verbose > 0) progress.emplace(cfg.max_epochs, *cfg.out);
      const auto segments = std::span<const ParameterSegment>(Model::parameter_segments());
      constexpr std::size_t classes = Model::output_shape::size;
      constexpr std::size_t n_params = Model::parameter_count;
      const std::size_t steps_per_epoch = batches.batches_per_epoch();
      float* params = net.parameters().data;
      float* grads = net.gradients().data;
      // Divergence before the first finite epoch goes back to these.
      copy_values(params_and_buffers(), {initial_parameters.data(), initial_buffers.data()});

      for (std::size_t epoch = 0; epoch < cfg.max_epochs; ++epoch) {
        const auto started = std::chrono::steady_clock::now();
        if (progress) progress->begin_epoch(epoch);
        batches.start_epoch(cfg.shuffle ? &shuffle_rng : nullptr);
        double loss_sum = 0, lr = cfg.learning_rate;
        std::size_t seen = 0, correct = 0, step = 0;
        data::Batch batch;
        while (batches.next(batch)) {
          lr = schedule.learning_rate({cfg.learning_rate, epoch, step, steps_per_epoch, cfg.max_epochs});
          const std::size_t count = batch.size;
          upload.put(batch.images, batch.labels, count);
          metrics.zero();
          const float* y = net.forward_train(upload.images.data(), count);
          device_loss<Loss>::run(y, upload.labels.data(), count, classes, grad.data(), metrics.data());
          net.backward(grad.data());
          double sums[2];
          metrics.download(sums, 2);  // waits for the step: the only copy back per batch
          // Rounded to float as the CPU losses return it (so a float overflow is inf here too).
          const double loss = double(float(sums[0] / double(count)));
          const std::size_t hits = std::size_t(sums[1]);
          if (!std::isfinite(loss)) return diverge(epoch, step, loss, progress);
          if (auto d = stopping.check_step(loss); d.stop) return diverge(epoch, step, loss, progress);
          regularizer.before_step(params, grads, n_params, lr, segments);
          optimizer.step(params, grads, n_params, lr, segments);
          regularizer.after_step(params, n_params, lr, segments);
          loss_sum += loss * double(count);
          correct += hits;
          seen += count;
          ++step;
          if (progress) progress->update(step, steps_per_epoch, loss_sum / double(seen), double(correct) / double(seen));
        }

        EpochRecord record;
        record.epoch = epoch;
        record.train_loss = loss_sum / double(seen) + regularizer.penalty(params, n_params, segments);
        record.train_accuracy = double(correct) / double(seen);
        const Evaluation val = ctnn::cuda::evaluate<Loss>(net, validation, cfg.eval_batch_size);
        record.val_loss = val.loss;
        record.val_accuracy = val.accuracy;
        record.learning_rate = lr;
        record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        history.add(record);
        if (progress) progress->end_epoch(record);

        EpochMetrics m{epoch, record.train_loss, record.train_accuracy, val.loss, val.accuracy,
                       !validation.empty()};
        // At the end of the epoch the last step was `step - 1`, and the loss worth reporting is
        // the one that is not finite (as ctnn::Trainer).
        if (!std::isfinite(record.train_loss) || (!validation.empty() && !std::isfinite(val.loss)))
          return diverge(epoch, step - 1, std::isfinite(record.train_loss) ? val.loss : record.train_loss,
                         progress);
        schedule.end_epoch(validation.empty() ? record.train_loss : val.loss);
        StopDecision decision = stopping.update(m);
        remember_best(epoch, val.loss);
        if (decision.stop) {
          history.set_stop_reason(decision.reason);
          if (progress) progress->message(decision.reason);
          finish(cfg.restore_best_weights);
          return history;
        }
      }
      history.set_stop_reason("reached max_epochs (" + std::to_string(cfg.max_epochs) + ")");
      finish(false);
      return history;
    }

    void remember_best(std::size_t epoch, double val_loss) {
      bool better;
      if constexpr (TracksBest<stopping_type>) {
        better = stopping.improved();
      } else {
        const double watched = validation.empty() ? history.epochs().back().train_loss : val_loss;
        better = !has_best || watched < best_val_loss;
        if (better) best_val_loss = watched;
      }
      if (better) {
        copy_values(params_and_buffers(), {best_parameters.data(), best_buffers.data()});
        best_epoch = epoch;
        has_best = true;
      }
    }

    // The net's parameters and buffers, and device copies of them (best epoch, initial weights).
    struct Weights {
      float* parameters;
      float* buffers;
    };
    Weights params_and_buffers() { return {net.parameters().data, net.buffers().data}; }
    static void copy_values(Weights from, Weights to) {
      kernels::cuda::copy_on_device(to.parameters, from.parameters, Model::parameter_count * sizeof(float));
      kernels::cuda::copy_on_device(to.buffers, from.buffers, Model::buffer_count * sizeof(float));
    }

    // Restores the best weights when asked and records the best epoch in the history.
    void finish(bool restore) {
      if (!has_best) return;
      history.set_best_epoch(best_epoch);
      if (restore) copy_values({best_parameters.data(), best_buffers.data()}, params_and_buffers());
    }

    History diverge(std::size_t epoch, std::size_t step, double loss, std::optional<ProgressPrinter>& progress) {
      const std::string reason = "diverged at epoch " + std::to_string(epoch + 1) + ", step " +
                                 std::to_string(step + 1) + " (loss " + std::to_string(loss) + ")" +
                                 (has_best ? "; kept the weights of epoch " + std::to_string(best_epoch + 1)
                                           : "; restored the initial weights");
      history.set_diverged(true);
      history.set_stop_reason(reason);
      if (progress) progress->message(reason);
      finish(true);  // never leave NaN weights behind
      if (!has_best) copy_values({initial_parameters.data(), initial_buffers.data()}, params_and_buffers());
      return history;
    }
  };

  TrainConfig config_;
  PolicyOptions policies_;
};

}  // namespace ctnn::cuda
