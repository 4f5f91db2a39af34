#pragma once
// ctnn::ProgressPrinter: Keras-like training output.
//
//   Epoch 3/10 - 12.3s - loss: 0.4123 - accuracy: 0.8512 - val_loss: 0.4420 - val_accuracy: 0.8401 - lr: 1.0e-03
//
// One line per epoch always. On a terminal, a progress bar is also redrawn in place (with '\r')
// during the epoch and replaced by the epoch line at its end:
//
//   Epoch 3/10  120/469 [=======>......................] - ETA: 5s - loss: 0.4123 - accuracy: 0.8512
//
// When the output is not a terminal (a log file, a pipe, a test's std::ostringstream) only the
// epoch lines and messages are written, so logs stay readable.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <initializer_list>
#include <iostream>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>

#include "ctnn/config.hpp"
#include "ctnn/train/history.hpp"

namespace ctnn {

class ProgressPrinter {
 public:
  enum class Mode {
    automatic,    // interactive when `out` is std::cout / std::cerr / std::clog and that fd is a tty
    interactive,  // always draw the in-epoch bar
    plain         // epoch lines only
  };

  CTNN_COLD explicit ProgressPrinter(std::size_t total_epochs, std::ostream& out = std::cout, Mode mode = Mode::automatic)
      : out_(&out), total_epochs_(total_epochs), interactive_(resolve(mode, out)) {}

  bool interactive() const noexcept { return interactive_; }

  // `epoch` is 0-based (shown from 1).
  CTNN_COLD void begin_epoch(std::size_t epoch) {
    epoch_ = epoch;
    start_ = std::chrono::steady_clock::now();
    last_percent_ = -1;
    last_width_ = 0;
  }

  // After `batch` of `batches` batches; loss and accuracy are running means (NaN: not shown).
  // Draws only in interactive mode, and only when the percentage changes (at most ~100 redraws).
  CTNN_COLD void update(std::size_t batch, std::size_t batches, double loss = nan(), double accuracy = nan()) {
    if (!interactive_ || batches == 0) return;
    if (batch > batches) batch = batches;
    const int percent = static_cast<int>(batch * 100 / batches);
    if (percent == last_percent_) return;
    last_percent_ = percent;

    constexpr std::size_t bar = 30;
    const std::size_t filled = batch * bar / batches;
    const std::string total = std::to_string(batches);
    const std::string done = std::to_string(batch);
    std::string line = cat({epoch_label(), "  "});
    line.append(total.size() - done.size(), ' ');
    line += cat({done, "/", total, " ["});
    line.append(filled, '=');
    if (filled < bar) {
      line += '>';
      line.append(bar - filled - 1, '.');
    }
    line += ']';
    const double elapsed = seconds_since_start();
    if (batch > 0 && batch < batches)
      line += cat({" - ETA: ", fmt("%.0f", elapsed / static_cast<double>(batch) * static_cast<double>(batches - batch)), "s"});
    else
      line += cat({" - ", fmt("%.1f", elapsed), "s"});
    if (std::isfinite(loss)) line += cat({" - loss: ", fmt("%.4f", loss)});
    if (std::isfinite(accuracy)) line += cat({" - accuracy: ", fmt("%.4f", accuracy)});
    draw(line);
  }

  // The epoch line (replacing the bar on a terminal).
  CTNN_COLD void end_epoch(const EpochRecord& record) {
    const std::string line = epoch_line(record, total_epochs_);
    if (interactive_) {
      draw(line);
      last_width_ = 0;
      *out_ << '\n';
    } else {
      *out_ << line << '\n';
    }
    out_->flush();
  }

  // A line of its own ("Early stopping: ...").
  CTNN_COLD void message(std::string_view text) {
    if (interactive_ && last_width_ > 0) {
      *out_ << '\n';
      last_width_ = 0;
    }
    *out_ << text << '\n';
    out_->flush();
  }

  // record.epoch 2 (0-based) prints "Epoch 3/10 - 12.3s - loss: 0.4123 - accuracy: 0.8512 - val_loss: ... - val_accuracy: ... - lr: 1.0e-03";
  // metrics that are NaN are left out; total_epochs 0 prints "Epoch 3".
  CTNN_COLD static std::string epoch_line(const EpochRecord& r, std::size_t total_epochs) {
    std::string s = cat({"Epoch ", std::to_string(r.epoch + 1), total_epochs ? "/" : "",
                         total_epochs ? std::to_string(total_epochs) : std::string(), " - ", fmt("%.1f", r.seconds),
                         "s"});
    auto add = [&](const char* name, double v, const char* format) {
      if (std::isfinite(v)) s += cat({" - ", name, ": ", fmt(format, v)});
    };
    add("loss", r.train_loss, "%.4f");
    add("accuracy", r.train_accuracy, "%.4f");
    add("val_loss", r.val_loss, "%.4f");
    add("val_accuracy", r.val_accuracy, "%.4f");
    add("lr", r.learning_rate, "%.1e");
    return s;
  }

 private:
  static std::string cat(std::initializer_list<std::string_view> pieces) { return detail::history::cat(pieces); }
  static double nan() { return std::numeric_limits<double>::quiet_NaN(); }
  CTNN_COLD static std::string fmt(const char* format, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
  }
  CTNN_COLD static bool resolve(Mode mode, const std::ostream& out) {
    if (mode != Mode::automatic) return mode == Mode::interactive;
    if (&out == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
    if (&out == &std::cerr || &out == &std::clog) return ::isatty(STDERR_FILENO) == 1;
    return false;
  }
  CTNN_COLD std::string epoch_label() const {
    return cat({"Epoch ", std::to_string(epoch_ + 1), total_epochs_ ? "/" : "",
                total_epochs_ ? std::to_string(total_epochs_) : std::string()});
  }
  double seconds_since_start() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  // '\r' + line, padded with spaces over what the previous draw left.
  CTNN_COLD void draw(const std::string& line) {
    *out_ << '\r' << line;
    if (line.size() < last_width_) *out_ << std::string(last_width_ - line.size(), ' ');
    last_width_ = line.size();
    out_->flush();
  }

  std::ostream* out_;
  std::size_t total_epochs_;
  bool interactive_;
  std::size_t epoch_ = 0;
  std::chrono::steady_clock::time_point start_{};
  int last_percent_ = -1;
  std::size_t last_width_ = 0;
};

}  // namespace ctnn
