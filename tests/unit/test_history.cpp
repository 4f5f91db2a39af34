// train/history.hpp and train/progress.hpp: verdicts, CSV, plots, checkpoint bytes, progress lines.
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/train/history.hpp"
#include "ctnn/train/progress.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A scripted run: validation losses given, the rest derived.
ctnn::History curve(const std::vector<double>& val_loss, const std::vector<double>& train_acc = {},
                    const std::vector<double>& val_acc = {}) {
  ctnn::History h;
  for (std::size_t i = 0; i < val_loss.size(); ++i) {
    ctnn::EpochRecord r;
    r.epoch = i;
    r.train_loss = 1.2 / static_cast<double>(i + 1);
    r.val_loss = val_loss[i];
    r.train_accuracy = i < train_acc.size() ? train_acc[i] : 0.5 + 0.04 * static_cast<double>(i);
    r.val_accuracy = i < val_acc.size() ? val_acc[i] : 0.5 + 0.035 * static_cast<double>(i);
    r.learning_rate = 1e-3;
    r.seconds = 2.5;
    h.add(r);
  }
  return h;
}

bool is_png(const fs::path& p) {
  const std::string s = slurp(p);
  return s.size() > 8 && s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

}  // namespace

TEST_CASE("verdict: still improving", "[history]") {
  const auto h = curve({1.0, 0.8, 0.6, 0.5, 0.45});
  const auto v = h.verdict();
  CHECK(v.fit == ctnn::Fit::still_improving);
  CHECK_THAT(v.text, Catch::StartsWith("still improving: validation loss was still falling at the last epoch "
                                       "(underfitting or stopped too early)"));
  CHECK_THAT(v.text, Catch::Contains("0.8 at epoch 2 -> 0.45 at epoch 5"));
  CHECK(h.best_epoch() == 4);
}

TEST_CASE("verdict: good fit", "[history]") {
  SECTION("levelled off below the improvement threshold") {
    const auto h = curve({1.0, 0.6, 0.45, 0.40, 0.399, 0.3985, 0.398});  // last 3 epochs: -0.5%
    CHECK(h.verdict().fit == ctnn::Fit::good_fit);
    CHECK_THAT(h.verdict().text, Catch::StartsWith("good fit: validation loss reached its minimum 0.398 at epoch 7 "
                                                   "(the last epoch) and has levelled off"));
  }
  SECTION("minimum before the end, small rise") {
    const auto h = curve({1.0, 0.6, 0.45, 0.40, 0.39, 0.392, 0.391});
    CHECK(h.verdict().fit == ctnn::Fit::good_fit);
    CHECK_THAT(h.verdict().text, Catch::Contains("minimum 0.39 at epoch 5 and ended at 0.391, within 5% of it"));
    CHECK(h.best_epoch() == 4);
  }
  SECTION("a rise in the last epoch only is too recent to call") {
    const auto h = curve({1.0, 0.6, 0.45, 0.40, 0.39, 0.45});
    CHECK(h.verdict().fit == ctnn::Fit::good_fit);
    CHECK_THAT(h.verdict().text, Catch::Contains("too recent to call overfitting"));
  }
}

TEST_CASE("verdict: overfitting", "[history]") {
  const auto h = curve({1.0, 0.6, 0.4, 0.35, 0.38, 0.45, 0.55}, {0.6, 0.8, 0.9, 0.93, 0.96, 0.98, 0.99},
                       {0.6, 0.78, 0.85, 0.88, 0.875, 0.87, 0.87});
  const auto v = h.verdict();
  CHECK(v.fit == ctnn::Fit::overfitting);
  CHECK(v.text == "overfitting from epoch 4: validation loss rose from 0.35 to 0.55 (epoch 7) while training "
                  "accuracy reached 0.9900; train/validation accuracy gap 0.1200");
  CHECK(h.best_epoch() == 3);
  CHECK(h.best().epoch == 3);

  const std::string report = h.report();
  CHECK_THAT(report, Catch::Contains("epochs run: 7\n"));
  CHECK_THAT(report, Catch::Contains("best epoch: 4 (val_loss 0.35, val_accuracy 0.8800, train_loss 0.3, "
                                     "train_accuracy 0.9300)\n"));
  CHECK_THAT(report, Catch::Contains("last epoch: 7 ("));
  CHECK_THAT(report, Catch::Contains("stop reason: (none recorded)\n"));
  CHECK_THAT(report, Catch::Contains("training time: 17.5 s\n"));
  CHECK_THAT(report, Catch::Contains("verdict: overfitting from epoch 4"));

  // Thresholds are adjustable: a 60% rise needed means this is no longer overfitting.
  ctnn::FitThresholds lenient;
  lenient.overfit_rise = 0.6;
  CHECK(h.verdict(lenient).fit == ctnn::Fit::good_fit);
}

TEST_CASE("verdict: diverged, no validation data, too short", "[history]") {
  auto d = curve({1.0, 0.9});
  d.set_diverged();
  d.set_stop_reason("loss became NaN at epoch 3");
  CHECK(d.verdict().fit == ctnn::Fit::diverged);
  CHECK_THAT(d.report(), Catch::Contains("stop reason: loss became NaN at epoch 3") &&
                             Catch::Contains("verdict: diverged"));

  const auto none = curve({nan_v, nan_v, nan_v});
  CHECK(none.verdict().fit == ctnn::Fit::not_enough_data);
  CHECK_THAT(none.verdict().text, Catch::Contains("no validation loss"));
  CHECK(none.best_epoch() == 2);  // falls back to the lowest training loss

  CHECK(curve({0.5}).verdict().fit == ctnn::Fit::not_enough_data);
  const ctnn::History empty;
  CHECK(empty.verdict().fit == ctnn::Fit::not_enough_data);
  CHECK_THROWS_AS(empty.best_epoch(), ctnn::ConfigError);
  CHECK_THAT(empty.report(), Catch::Contains("epochs run: 0"));
}

TEST_CASE("best epoch set by the trainer wins", "[history]") {
  auto h = curve({1.0, 0.5, 0.7});
  CHECK(h.best_epoch() == 1);
  h.set_best_epoch(2);
  CHECK(h.best_epoch() == 2);
  CHECK_THROWS_AS(h.set_best_epoch(3), ctnn::ConfigError);
}

TEST_CASE("save_csv writes a header and one exact row per epoch", "[history]") {
  TempDir dir;
  ctnn::History h;
  h.add({0, 0.5, 0.75, 0.625, 0.7, 0.001, 3.5});
  h.add({1, 0.1, 0.9, nan_v, nan_v, 1e-4, 3.25});
  h.save_csv(dir.path / "h.csv");
  CHECK(slurp(dir.path / "h.csv") ==
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
        "1,0.5,0.75,0.625,0.7,0.001,3.5\n"
        "2,0.1,0.9,nan,nan,1e-04,3.25\n");
  CHECK_THROWS_AS(h.save_csv(dir.path / "missing" / "h.csv"), ctnn::FileError);
}

TEST_CASE("history bytes round trip and reject damage", "[history]") {
  auto h = curve({1.0, 0.6, nan_v, 0.5});
  h.set_best_epoch(1);
  h.set_stop_reason("early stopping: val_loss did not improve for 3 epochs");
  h.set_diverged(false);
  const auto bytes = h.to_bytes();
  const auto back = ctnn::History::from_bytes(bytes);
  CHECK(back.to_bytes() == bytes);
  CHECK(back.size() == 4);
  CHECK(back.best_epoch() == 1);
  CHECK(back.stop_reason() == h.stop_reason());
  CHECK(std::isnan(back.epochs()[2].val_loss));
  CHECK(back.epochs()[3].val_loss == 0.5);

  for (std::size_t len = 0; len < bytes.size(); ++len)
    CHECK_THROWS_AS(ctnn::History::from_bytes(std::span(bytes).first(len)), ctnn::FileError);
  auto extra = bytes;
  extra.push_back(std::byte{0});
  CHECK_THROWS_WITH(ctnn::History::from_bytes(extra, "ckpt[history]"), Catch::Contains("1 trailing bytes"));

  auto bad_best = bytes;  // best index 9 of 4 epochs
  bad_best[4 + 8 + 4 * 56 + 1] = std::byte{9};
  CHECK_THROWS_WITH(ctnn::History::from_bytes(bad_best), Catch::Contains("best epoch index below 4"));

  auto huge = bytes;  // 10^12 epochs claimed
  for (int i = 0; i < 8; ++i) huge[4 + i] = static_cast<std::byte>(1'000'000'000'000ull >> (8 * i));
  CHECK_THROWS_WITH(ctnn::History::from_bytes(huge), Catch::Contains("1000000000000 epoch record"));
}

TEST_CASE("plot and plot_histories write PNG files through gnuplot", "[history][plot]") {
  TempDir dir;
  const auto h = curve({1.0, 0.6, 0.4, 0.35, 0.38, 0.45, 0.55});

  SECTION("a missing gnuplot is a clear error") {
    ctnn::PlotOptions o;
    o.gnuplot = "ctnn-no-such-gnuplot";
    CHECK_THROWS_WITH(h.plot(dir.path / "x.png", o), Catch::Contains("install gnuplot"));
    CHECK(!fs::exists(dir.path / "x.png"));
  }
  SECTION("nothing to plot") {
    CHECK_THROWS_AS(ctnn::History().plot(dir.path / "x.png"), ctnn::ConfigError);
    CHECK_THROWS_AS(ctnn::plot_histories(dir.path / "x.png", {h}, {}), ctnn::ConfigError);
  }
  SECTION("real plots") {
    if (!ctnn::gnuplot_available()) {
      WARN("skipped: gnuplot is not installed (apt-get install gnuplot-nox)");
      return;
    }
    h.plot(dir.path / "one.png");
    CHECK(is_png(dir.path / "one.png"));

    std::vector<ctnn::History> sweep{curve({1.0, 0.8, 0.7, 0.65}), curve({0.9, 0.5, 0.4, 0.38}),
                                     curve({2.0, 3.0, nan_v, nan_v})};
    ctnn::plot_histories(dir.path / "sweep.png", sweep, {"lr 1e-4", "lr 1e-3", "lr 1e-1 (it's diverging)"});
    CHECK(is_png(dir.path / "sweep.png"));

    const auto no_val = curve({nan_v, nan_v});  // panels without validation data still draw
    no_val.plot(dir.path / "noval.png");
    CHECK(is_png(dir.path / "noval.png"));

    std::size_t files = 0;  // no data or script files left next to the PNGs
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
    CHECK(files == 3);
  }
}

TEST_CASE("ProgressPrinter writes plain epoch lines when not on a terminal", "[progress]") {
  std::ostringstream out;
  ctnn::ProgressPrinter p(10, out);
  CHECK(!p.interactive());
  p.begin_epoch(2);
  for (std::size_t b = 1; b <= 50; ++b) p.update(b, 50, 0.5, 0.8);
  p.end_epoch({2, 0.41234, 0.85124, 0.44, 0.84, 1e-3, 12.34});
  p.message("Early stopping: val_loss did not improve for 3 epochs");
  p.end_epoch({3, 0.4, nan_v, nan_v, nan_v, nan_v, 1.0});
  CHECK(out.str() ==
        "Epoch 3/10 - 12.3s - loss: 0.4123 - accuracy: 0.8512 - val_loss: 0.4400 - val_accuracy: 0.8400 - lr: 1.0e-03\n"
        "Early stopping: val_loss did not improve for 3 epochs\n"
        "Epoch 4/10 - 1.0s - loss: 0.4000\n");
}

TEST_CASE("ProgressPrinter draws a \\r-updated bar in interactive mode", "[progress]") {
  std::ostringstream out;
  ctnn::ProgressPrinter p(2, out, ctnn::ProgressPrinter::Mode::interactive);
  p.begin_epoch(0);
  for (std::size_t b = 1; b <= 1000; ++b) p.update(b, 1000, 0.5, 0.8);
  p.end_epoch({0, 0.5, 0.8, nan_v, nan_v, 0.01, 2.0});
  const std::string s = out.str();
  CHECK(std::count(s.begin(), s.end(), '\r') == 102);  // percent 0..100 + the final line
  CHECK_THAT(s, Catch::Contains("Epoch 1/2   500/1000 [===============>..............]"));
  CHECK_THAT(s, Catch::Contains("1000/1000 [==============================]"));
  CHECK_THAT(s, Catch::Contains("\rEpoch 1/2 - 2.0s - loss: 0.5000 - accuracy: 0.8000 - lr: 1.0e-02"));
  CHECK(s.back() == '\n');
}
