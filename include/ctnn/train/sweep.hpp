#pragma once
// sweep_learning_rates: the classic way to choose a learning rate. Trains a fresh model per rate
// from the same seed and returns every history plus the best rate by a validation metric.
//
//   auto result = sweep_learning_rates<Train>([] { return Model{42}; }, train, val,
//                                             {1e-3, 1e-4, 1e-5}, cfg);
//   result.best_learning_rate;   // by validation loss unless `monitor` says otherwise
//
// A rate that diverges is recorded as diverged (its history says where) and never chosen;
// the other rates continue.
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "ctnn/error.hpp"
#include "ctnn/train/stopping.hpp"
#include "ctnn/train/trainer.hpp"

namespace ctnn {

struct SweepResult {
  std::vector<double> learning_rates;  // as given
  std::vector<History> histories;      // same order
  double best_learning_rate = std::numeric_limits<double>::quiet_NaN();
  std::size_t best_index = 0;
  bool any_converged = false;          // false when every rate diverged

  // "1e-03: best val_loss 0.2913 at epoch 7 ..." one line per rate, then the choice.
  std::string report(Monitor monitor = Monitor::val_loss) const;
};

namespace detail {
// The value of `monitor` at a history's best epoch, oriented so that lower is better.
inline double sweep_score(const History& h, Monitor monitor) {
  if (h.diverged() || h.empty()) return std::numeric_limits<double>::infinity();
  const EpochRecord& best = h.best();
  double v = 0;
  switch (monitor) {
    case Monitor::val_loss: v = best.val_loss; break;
    case Monitor::val_accuracy: v = -best.val_accuracy; break;
    case Monitor::train_loss: v = best.train_loss; break;
    case Monitor::train_accuracy: v = -best.train_accuracy; break;
  }
  return std::isfinite(v) ? v : std::numeric_limits<double>::infinity();
}

inline std::string rate_name(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0e", rate);
  return buf;
}
}  // namespace detail

// Picks the best of finished histories; shared by the single-process and distributed sweeps.
inline void choose_best(SweepResult& result, Monitor monitor) {
  double best = std::numeric_limits<double>::infinity();
  result.any_converged = false;
  for (std::size_t i = 0; i < result.histories.size(); ++i) {
    const double score = detail::sweep_score(result.histories[i], monitor);
    if (score < best) {
      best = score;
      result.best_index = i;
      result.best_learning_rate = result.learning_rates[i];
      result.any_converged = true;
    }
  }
}

inline std::string SweepResult::report(Monitor monitor) const {
  std::string out;
  for (std::size_t i = 0; i < histories.size(); ++i) {
    const History& h = histories[i];
    out += "lr " + detail::rate_name(learning_rates[i]) + ": ";
    if (h.diverged() || h.empty()) {
      out += "diverged (" + h.stop_reason() + ")\n";
      continue;
    }
    const EpochRecord& b = h.best();
    char line[120];
    std::snprintf(line, sizeof line, "best epoch %zu, val_loss %.4f, val_accuracy %.4f; ",
                  b.epoch + 1, b.val_loss, b.val_accuracy);
    out += line + h.verdict().text + "\n";
  }
  out += any_converged ? "best learning rate by " + std::string(to_string(monitor)) + ": " +
                             detail::rate_name(best_learning_rate) + "\n"
                       : "every learning rate diverged\n";
  return out;
}

// Train is a Trainer<...>; make_model() returns a freshly initialised model (same seed each
// call, so every rate starts from the same weights).
template <class Train, class MakeModel>
SweepResult sweep_learning_rates(MakeModel&& make_model, const data::Dataset& train,
                                 const data::Dataset& validation, std::vector<double> rates,
                                 TrainConfig config = {}, typename Train::PolicyOptions policies = {},
                                 Monitor monitor = Monitor::val_loss) {
  if (rates.empty()) throw ConfigError("sweep_learning_rates: the list of learning rates is empty");
  SweepResult result;
  result.learning_rates = rates;
  for (double rate : rates) {
    config.learning_rate = rate;
    auto model = make_model();
    if (config.verbose > 0 && config.out) *config.out << "learning rate " << detail::rate_name(rate) << "\n";
    result.histories.push_back(Train{config, policies}.fit(model, train, validation));
  }
  choose_best(result, monitor);
  return result;
}

}  // namespace ctnn
