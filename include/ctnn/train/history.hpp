#pragma once
// ctnn::History: what happened during training, one EpochRecord per epoch, and what to make of it.
//
//   history.report()                  plain-text summary with a verdict read from the curves
//   history.save_csv("run.csv")       one row per epoch (atomic write)
//   history.plot("run.png")           loss and accuracy panels, drawn by gnuplot
//   plot_histories("lr.png", hs, labels)   one line per run (a learning-rate sweep)
//   history.to_bytes() / History::from_bytes(...)   for checkpoints
//
// The verdict rules and their thresholds are documented in docs/history.md (FitThresholds).
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/error.hpp"
#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/binary.hpp"

extern char** environ;

namespace ctnn {

// One epoch. `epoch` is 0-based, like EpochMetrics and the stopping rules; everything shown to
// people (report, verdict, CSV, plots, progress lines) counts from 1. Metrics that were not
// measured (no validation set, a regression task without accuracy) are NaN.
struct EpochRecord {
  std::size_t epoch = 0;
  double train_loss = std::numeric_limits<double>::quiet_NaN();
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  double learning_rate = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;

  friend bool operator==(const EpochRecord&, const EpochRecord&) = default;
};

// The thresholds of the verdict (docs/history.md explains each).
struct FitThresholds {
  // Overfitting: the last validation loss is at least this fraction above its minimum ...
  double overfit_rise = 0.05;
  // ... and at least this many epochs were run after the minimum.
  std::size_t overfit_patience = 2;
  // Still improving: the last epoch has the lowest validation loss, and it fell by at least this
  // fraction over the last `improving_window` epochs.
  double improving_drop = 0.01;
  std::size_t improving_window = 3;
};

enum class Fit { not_enough_data, diverged, still_improving, good_fit, overfitting };

struct FitVerdict {
  Fit fit = Fit::not_enough_data;
  std::string text;  // one line, starts with the verdict ("good fit: ...")
};

namespace detail::history {

// The pieces joined into one string. The report, CSV and plot text is built with this rather
// than with chains of operator+, whose temporaries cost compile time in every user's program
// (this header is compiled wherever ctnn.hpp is included).
CTNN_COLD inline std::string cat(std::initializer_list<std::string_view> pieces) {
  std::size_t n = 0;
  for (const auto p : pieces) n += p.size();
  std::string out;
  out.reserve(n);
  for (const auto p : pieces) out.append(p);
  return out;
}

CTNN_COLD inline std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
CTNN_COLD inline std::string loss_str(double v) { return fmt("%.4g", v); }
CTNN_COLD inline std::string acc_str(double v) { return fmt("%.4f", v); }

// Shortest text that reads back to the same double ("nan", "inf" for non-finite values).
CTNN_COLD inline std::string exact(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// gnuplot single-quoted string: '' stands for ', nothing else is special; no newlines.
CTNN_COLD inline std::string gp_quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += "''";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out + "'";
}

// Data value for gnuplot; non-finite values become NaN, which the script marks as missing.
CTNN_COLD inline std::string gp_value(double v) { return std::isfinite(v) ? exact(v) : std::string("NaN"); }

// A temporary directory, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  CTNN_COLD explicit TempDir(const std::string& prefix) {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw io::detail::os_error(pattern, "creating a temporary directory", errno);
    path = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Runs `program args...` (searched on PATH) with stdout and stderr sent to `log`; returns the exit
// status, or -1 with errno set when it could not be started.
CTNN_COLD inline int run_program(const std::string& program, const std::vector<std::string>& args,
                                 const std::filesystem::path& log) {
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace detail::history

// Options for History::plot and plot_histories.
struct PlotOptions {
  std::string gnuplot = "gnuplot";  // program name or path
  std::string title;                // above both panels
  int width = 1200, height = 500;   // pixels
  bool log_loss = false;            // logarithmic loss axis
};

// True when `program --version` runs and exits with 0.
CTNN_COLD inline bool gnuplot_available(const std::string& program = "gnuplot") {
  try {
    detail::history::TempDir dir("ctnn-gnuplot-check-");
    return detail::history::run_program(program, {"--version"}, dir.path / "log") == 0;
  } catch (const Error&) {
    return false;
  }
}

class History {
 public:
  void add(const EpochRecord& record) { epochs_.push_back(record); }
  const std::vector<EpochRecord>& epochs() const noexcept { return epochs_; }
  std::size_t size() const noexcept { return epochs_.size(); }
  bool empty() const noexcept { return epochs_.empty(); }

  // Index into epochs() of the best epoch: as set by the trainer (set_best_epoch), otherwise the
  // epoch with the lowest finite validation loss (the first one on ties), otherwise -- with no
  // validation data -- the lowest finite training loss, otherwise the last epoch.
  // Throws ConfigError when no epoch was recorded.
  std::size_t best_epoch() const {
    if (epochs_.empty()) throw ConfigError("History::best_epoch: no epochs recorded");
    if (best_) return *best_;
    if (auto i = argmin(&EpochRecord::val_loss)) return *i;
    if (auto i = argmin(&EpochRecord::train_loss)) return *i;
    return epochs_.size() - 1;
  }
  const EpochRecord& best() const { return epochs_[best_epoch()]; }
  // The trainer's choice (e.g. the epoch whose weights early stopping restored).
  void set_best_epoch(std::size_t index) {
    if (index >= epochs_.size())
      throw ConfigError("History::set_best_epoch: index " + std::to_string(index) + " but only " +
                        std::to_string(epochs_.size()) + " epochs recorded");
    best_ = index;
  }

  const std::string& stop_reason() const noexcept { return stop_reason_; }
  void set_stop_reason(std::string reason) { stop_reason_ = std::move(reason); }

  bool diverged() const noexcept { return diverged_; }
  void set_diverged(bool d = true) noexcept { diverged_ = d; }

  double total_seconds() const noexcept {
    double s = 0;
    for (const auto& e : epochs_) s += e.seconds;
    return s;
  }

  // The verdict read from the validation-loss curve (docs/history.md).
  CTNN_COLD FitVerdict verdict(const FitThresholds& t = {}) const {
    using namespace detail::history;
    if (epochs_.empty()) return {Fit::not_enough_data, "not enough data: no epochs recorded"};
    if (diverged_)
      return {Fit::diverged, cat({"diverged: the loss became NaN, infinite or exploded",
                                  stop_reason_.empty() ? "" : " (", stop_reason_, stop_reason_.empty() ? "" : ")",
                                  "; lower the learning rate or check the data"})};
    std::vector<std::size_t> f;  // epochs with a finite validation loss
    for (std::size_t i = 0; i < epochs_.size(); ++i)
      if (std::isfinite(epochs_[i].val_loss)) f.push_back(i);
    if (f.empty()) return {Fit::not_enough_data, "not enough data: no validation loss recorded, cannot judge the fit"};
    if (f.size() < 2) return {Fit::not_enough_data, "not enough data: need at least 2 epochs with a validation loss"};

    const auto& last = epochs_[f.back()];
    std::size_t m = f.front();
    for (const std::size_t i : f)
      if (epochs_[i].val_loss < epochs_[m].val_loss) m = i;
    const auto& best = epochs_[m];
    const std::size_t after = static_cast<std::size_t>(std::ranges::count_if(f, [&](std::size_t i) { return i > m; }));
    const double rise = relative(last.val_loss - best.val_loss, best.val_loss);
    const double gap = last.train_accuracy - last.val_accuracy;
    const std::string gap_text = std::isfinite(gap) ? cat({"; train/validation accuracy gap ", acc_str(gap)}) : "";

    if (after >= t.overfit_patience && rise >= t.overfit_rise) {
      std::string text = cat({"overfitting from epoch ", std::to_string(best.epoch + 1), ": validation loss rose from ",
                              loss_str(best.val_loss), " to ", loss_str(last.val_loss), " (epoch ",
                              std::to_string(last.epoch + 1), ")"});
      if (std::isfinite(last.train_accuracy)) text += cat({" while training accuracy reached ", acc_str(last.train_accuracy)});
      else text += cat({" while training loss fell to ", loss_str(last.train_loss)});
      text += gap_text;
      return {Fit::overfitting, std::move(text)};
    }

    const std::size_t back = std::min(t.improving_window, f.size() - 1);
    const auto& ref = epochs_[f[f.size() - 1 - back]];
    const double drop = relative(ref.val_loss - last.val_loss, ref.val_loss);
    if (m == f.back() && drop >= t.improving_drop)
      return {Fit::still_improving,
              cat({"still improving: validation loss was still falling at the last epoch (underfitting or stopped too "
                   "early): ", loss_str(ref.val_loss), " at epoch ", std::to_string(ref.epoch + 1), " -> ",
                   loss_str(last.val_loss), " at epoch ", std::to_string(last.epoch + 1), "; train for more epochs",
                   gap_text})};

    std::string text = cat({"good fit: validation loss reached its minimum ", loss_str(best.val_loss), " at epoch ",
                            std::to_string(best.epoch + 1)});
    if (m == f.back())
      text += " (the last epoch) and has levelled off";
    else if (rise < t.overfit_rise)
      text += cat({" and ended at ", loss_str(last.val_loss), ", within ", fmt("%g", 100 * t.overfit_rise), "% of it"});
    else
      text += cat({"; it rose to ", loss_str(last.val_loss), " only in the last ", std::to_string(after),
                   " epoch(s), too recent to call overfitting (watch it)"});
    text += gap_text;
    return {Fit::good_fit, std::move(text)};
  }

  // Multi-line plain-text summary: epochs run, best epoch, stop reason, time, verdict.
  CTNN_COLD std::string report(const FitThresholds& t = {}) const {
    using namespace detail::history;
    std::string r = cat({"epochs run: ", std::to_string(epochs_.size()), "\n"});
    if (!epochs_.empty()) {
      const auto& b = best();
      r += cat({"best epoch: ", std::to_string(b.epoch + 1), " (", describe(b), ")\n"});
      const auto& l = epochs_.back();
      if (&l != &b) r += cat({"last epoch: ", std::to_string(l.epoch + 1), " (", describe(l), ")\n"});
    }
    r += cat({"stop reason: ", stop_reason_.empty() ? std::string_view("(none recorded)") : std::string_view(stop_reason_),
              "\n"});
    r += cat({"training time: ", fmt("%.1f", total_seconds()), " s\n"});
    r += cat({"verdict: ", verdict(t).text, "\n"});
    return r;
  }

  // "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds" and one row per
  // epoch; values in their shortest exact form, "nan" where not measured. Atomic write.
  CTNN_COLD std::string csv() const {
    using detail::history::cat;
    using detail::history::exact;
    std::string s = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n";
    for (const auto& e : epochs_)
      s += cat({std::to_string(e.epoch + 1), ",", exact(e.train_loss), ",", exact(e.train_accuracy), ",",
                exact(e.val_loss), ",", exact(e.val_accuracy), ",", exact(e.learning_rate), ",", exact(e.seconds),
                "\n"});
    return s;
  }
  void save_csv(const std::filesystem::path& path) const { io::write_file_atomically(path, csv()); }

  // PNG with two panels (loss, accuracy; training and validation), drawn by gnuplot.
  void plot(const std::filesystem::path& png_path, const PlotOptions& options = {}) const;

  // Checkpoint encoding (docs/file-format.md, "History section").
  static constexpr std::uint32_t format_version = 1;
  CTNN_COLD void write(io::BinaryWriter& w) const {
    w.u32(format_version);
    w.u64(epochs_.size());
    for (const auto& e : epochs_) {
      w.u64(e.epoch);
      for (const double v : {e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy, e.learning_rate, e.seconds})
        w.f64(v);
    }
    w.u8(best_ ? 1 : 0);
    w.u64(best_.value_or(0));
    w.string(stop_reason_);
    w.u8(diverged_ ? 1 : 0);
  }
  CTNN_COLD static History read(io::BinaryReader& r) {
    History h;
    const std::size_t at = r.position();
    const std::uint32_t v = r.u32("history format version");
    if (v != format_version)
      r.fail_at(at, "history format version " + std::to_string(format_version), "version " + std::to_string(v));
    const std::uint64_t n = r.count("epoch record", 56);  // 8 + 6 x 8 bytes each
    h.epochs_.reserve(static_cast<std::size_t>(n));
    for (std::uint64_t i = 0; i < n; ++i) {
      EpochRecord e;
      e.epoch = static_cast<std::size_t>(r.u64("epoch number"));
      for (double* p : {&e.train_loss, &e.train_accuracy, &e.val_loss, &e.val_accuracy, &e.learning_rate, &e.seconds})
        *p = r.f64("epoch metric");
      h.epochs_.push_back(e);
    }
    const std::size_t flag_at = r.position();
    const std::uint8_t has_best = r.u8("best-epoch flag");
    const std::uint64_t best = r.u64("best epoch");
    if (has_best > 1) r.fail_at(flag_at, "best-epoch flag 0 or 1", std::to_string(has_best));
    if (has_best && best >= n)
      r.fail_at(flag_at + 1, "a best epoch index below " + std::to_string(n), std::to_string(best));
    if (has_best) h.best_ = static_cast<std::size_t>(best);
    h.stop_reason_ = r.string("stop reason", 1 << 20);
    const std::size_t div_at = r.position();
    const std::uint8_t d = r.u8("diverged flag");
    if (d > 1) r.fail_at(div_at, "diverged flag 0 or 1", std::to_string(d));
    h.diverged_ = d == 1;
    return h;
  }
  CTNN_COLD std::vector<std::byte> to_bytes() const {
    io::BinaryWriter w;
    write(w);
    return w.take();
  }
  CTNN_COLD static History from_bytes(std::span<const std::byte> bytes, std::string path = "<history>") {
    io::BinaryReader r(bytes, std::move(path));
    History h = read(r);
    r.expect_end("end of the history");
    return h;
  }

 private:
  std::optional<std::size_t> argmin(double EpochRecord::*field) const {
    std::optional<std::size_t> m;
    for (std::size_t i = 0; i < epochs_.size(); ++i)
      if (std::isfinite(epochs_[i].*field) && (!m || epochs_[i].*field < epochs_[*m].*field)) m = i;
    return m;
  }
  static double relative(double diff, double base) { return diff / std::max(std::abs(base), 1e-12); }
  CTNN_COLD static std::string describe(const EpochRecord& e) {
    using namespace detail::history;
    std::string s;
    auto add = [&](const char* name, double v, bool is_acc) {
      if (!std::isfinite(v)) return;
      s += cat({s.empty() ? "" : ", ", name, " ", is_acc ? acc_str(v) : loss_str(v)});
    };
    add("val_loss", e.val_loss, false);
    add("val_accuracy", e.val_accuracy, true);
    add("train_loss", e.train_loss, false);
    add("train_accuracy", e.train_accuracy, true);
    return s.empty() ? "no finite metrics" : s;
  }

  std::vector<EpochRecord> epochs_;
  std::optional<std::size_t> best_;
  std::string stop_reason_;
  bool diverged_ = false;
};

namespace detail::history {

struct Series {
  std::size_t block;  // gnuplot data index
  int column;         // 2 train_loss, 3 val_loss, 4 train_accuracy, 5 val_accuracy
  std::string title;  // empty: notitle
  std::string style;  // "lw 2 lc rgb '#1f77b4' dt 1"
};

inline const char* color(std::size_t i) {
  static constexpr const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return palette[i % 10];
}

inline bool has_finite(const History& h, double EpochRecord::*field) {
  return std::ranges::any_of(h.epochs(), [&](const EpochRecord& e) { return std::isfinite(e.*field); });
}

CTNN_COLD inline std::string plot_command(const std::string& data, const std::vector<Series>& series, const char* with) {
  if (series.empty())
    return "unset arrow 1\nunset label 2\nset label 1 'no data' at graph 0.5, graph 0.5 center\n"
           "set xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\n"
           "unset label 1\nset xrange [*:*]\nset yrange [*:*]\n";
  std::string cmd = "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    cmd += cat({i ? ", " : "", gp_quote(data), " index ", std::to_string(s.block), " using 1:",
                std::to_string(s.column), " with ", with, " ", s.style, " ",
                s.title.empty() ? std::string("notitle") : cat({"title ", gp_quote(s.title)})});
  }
  cmd += "\n";
  return cmd;
}

// Writes data + script into a temp dir, runs gnuplot there, then writes the PNG to png_path
// atomically (a failed plot leaves an older PNG in place). `extra` is script text run before each
// panel.
CTNN_COLD inline void draw(const std::filesystem::path& png_path, const std::vector<const History*>& histories,
                           const std::vector<Series>& loss, const std::vector<Series>& accuracy, const PlotOptions& o,
                           const std::string& extra) {
  TempDir dir("ctnn-plot-");
  const auto data = (dir.path / "history.dat").string();
  const auto out = (dir.path / "plot.png").string();
  std::string d;
  for (std::size_t b = 0; b < histories.size(); ++b) {
    if (b) d += "\n\n";  // gnuplot data blocks, selected with `index`
    d += "# epoch train_loss val_loss train_accuracy val_accuracy\n";
    for (const auto& e : histories[b]->epochs())
      d += cat({std::to_string(e.epoch + 1), " ", gp_value(e.train_loss), " ", gp_value(e.val_loss), " ",
                gp_value(e.train_accuracy), " ", gp_value(e.val_accuracy), "\n"});
  }
  io::write_file_atomically(data, d);

  const std::string size = cat({std::to_string(o.width), ",", std::to_string(o.height)});
  std::string s;
  s += cat({"if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n  set terminal pngcairo size ", size,
            " noenhanced font 'sans,10'\n} else {\n  set terminal png size ", size, " noenhanced\n}\n"});
  s += cat({"set output ", gp_quote(out), "\n"});
  s += "set datafile missing NaN\nset grid\nset xlabel 'epoch'\nset mxtics\nset key outside bottom center horizontal\nset bmargin 5\n";
  s += cat({"set multiplot layout 1,2", o.title.empty() ? std::string() : cat({" title ", gp_quote(o.title)}), "\n"});
  std::size_t epochs = 0;
  for (const History* h : histories)
    for (const auto& e : h->epochs()) epochs = std::max(epochs, e.epoch + 1);
  if (epochs <= 12) s += "set xtics 1\n";  // integer ticks on short runs
  s += extra;
  s += "set title 'loss'\nset ylabel 'loss'\n";
  if (o.log_loss) s += "set logscale y\n";
  s += plot_command(data, loss, "linespoints pt 7 ps 0.5");
  if (o.log_loss) s += "unset logscale y\n";
  s += extra;
  s += "set title 'accuracy'\nset ylabel 'accuracy'\n";
  s += plot_command(data, accuracy, "linespoints pt 7 ps 0.5");
  s += "unset multiplot\nset output\n";
  const auto script = dir.path / "plot.gp";
  io::write_file_atomically(script, s);

  const int rc = run_program(o.gnuplot, {script.string()}, dir.path / "gnuplot.log");
  if (rc < 0) {
    const int err = errno;
    if (err == ENOENT)
      throw FileError(png_path.string(), cat({"the program '", o.gnuplot, "' to draw the plot"}),
                      "no such program on the PATH (install gnuplot, e.g. apt-get install gnuplot-nox, or plot the "
                      "CSV written by save_csv with another tool)");
    throw io::detail::os_error(png_path, "starting " + o.gnuplot, err);
  }
  std::string log;
  try {
    const auto l = io::read_file(dir.path / "gnuplot.log", 4096);
    log.assign(reinterpret_cast<const char*>(l.bytes.data()), l.bytes.size());
  } catch (const Error&) {
  }
  if (rc != 0)
    throw FileError(png_path.string(), cat({o.gnuplot, " to draw the plot (exit status 0)"}),
                    cat({"exit status ", std::to_string(rc), log.empty() ? "" : ": ", log}));
  const auto png = io::read_file(out, std::size_t(1) << 28);
  if (png.bytes.size() < 8)
    throw FileError(png_path.string(), cat({"a PNG image from ", o.gnuplot}),
                    cat({"an empty output file", log.empty() ? "" : ": ", log}));
  io::write_file_atomically(png_path, png.bytes);
}

}  // namespace detail::history

CTNN_COLD inline void History::plot(const std::filesystem::path& png_path, const PlotOptions& options) const {
  using namespace detail::history;
  if (epochs_.empty()) throw ConfigError("History::plot: no epochs recorded, nothing to plot");
  std::vector<Series> loss, acc;
  auto add = [&](std::vector<Series>& v, double EpochRecord::*field, int column, const char* title, std::size_t c) {
    if (has_finite(*this, field)) v.push_back({0, column, title, cat({"lw 2 lc rgb '", color(c), "'"})});
  };
  add(loss, &EpochRecord::train_loss, 2, "training", 0);
  add(loss, &EpochRecord::val_loss, 3, "validation", 1);
  add(acc, &EpochRecord::train_accuracy, 4, "training", 0);
  add(acc, &EpochRecord::val_accuracy, 5, "validation", 1);
  // A dotted vertical line at the best epoch, on both panels.
  const std::string b = exact(static_cast<double>(best().epoch + 1));
  const std::string extra = cat({"set arrow 1 from ", b, ", graph 0 to ", b,
                                 ", graph 1 nohead dt 3 lw 1.5 lc rgb '#555555'\n"
                                 "set label 2 'best' at ", b, ", graph 0.97 offset 0.5,0 tc rgb '#555555'\n"});
  draw(png_path, {this}, loss, acc, options, extra);
}

// One PNG, two panels; per run: validation as a solid line (titled with its label) and training as
// a dashed line of the same colour. For learning-rate sweeps: labels such as "lr 1e-3".
CTNN_COLD inline void plot_histories(const std::filesystem::path& png_path, const std::vector<History>& histories,
                                     const std::vector<std::string>& labels, const PlotOptions& options = {}) {
  using namespace detail::history;
  if (histories.empty()) throw ConfigError("plot_histories: no histories to plot");
  if (labels.size() != histories.size())
    throw ConfigError("plot_histories: " + std::to_string(histories.size()) + " histories but " +
                      std::to_string(labels.size()) + " labels");
  std::vector<const History*> hs;
  std::vector<Series> loss, acc;
  for (std::size_t i = 0; i < histories.size(); ++i) {
    const History& h = histories[i];
    hs.push_back(&h);
    const std::string solid = cat({"lw 2 dt 1 lc rgb '", color(i), "'"});
    const std::string dashed = cat({"lw 1 dt 2 lc rgb '", color(i), "'"});
    const bool val_loss = has_finite(h, &EpochRecord::val_loss), val_acc = has_finite(h, &EpochRecord::val_accuracy);
    if (val_loss) loss.push_back({i, 3, labels[i], solid});
    if (has_finite(h, &EpochRecord::train_loss))
      loss.push_back({i, 2, val_loss ? std::string() : labels[i] + " (training)", dashed});
    if (val_acc) acc.push_back({i, 5, labels[i], solid});
    if (has_finite(h, &EpochRecord::train_accuracy))
      acc.push_back({i, 4, val_acc ? std::string() : labels[i] + " (training)", dashed});
  }
  PlotOptions o = options;
  if (o.title.empty()) o.title = "solid: validation, dashed: training";
  draw(png_path, hs, loss, acc, o, "");
}

}  // namespace ctnn
