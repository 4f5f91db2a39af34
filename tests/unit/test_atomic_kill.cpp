// Killing a writer in the middle of a save, many times: the file on disk is always loadable and
// is either the old complete file or a new complete one, never a mixture or a prefix
// (io/atomic_file.hpp: temporary file, fsync, rename).
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ctnn/io/serialize.hpp"
#include "ctnn/random.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

// A net with the Net API save/load need and 2^18 parameters (a 1 MiB file, so that a save takes
// long enough, a few milliseconds, to be killed in the middle). Generation g sets every value to g, so a file mixing
// two saves would be visible even if its checksum were somehow right.
struct BigNet {
  static constexpr std::size_t parameter_count = std::size_t(1) << 18;
  std::vector<float> params = std::vector<float>(parameter_count), bufs = std::vector<float>(16);
  std::span<float> parameters() { return params; }
  std::span<const float> parameters() const { return params; }
  std::span<float> buffers() { return bufs; }
  std::span<const float> buffers() const { return bufs; }
  static std::string signature() { return "BigNet<262144>"; }

  void fill(std::uint32_t generation) {
    std::fill(params.begin(), params.end(), float(generation));
    std::fill(bufs.begin(), bufs.end(), float(generation));
  }
  // The generation of a consistent net, or -1 if its values disagree.
  long generation() const {
    const float g = params.front();
    const bool same = std::all_of(params.begin(), params.end(), [&](float v) { return v == g; }) &&
                      std::all_of(bufs.begin(), bufs.end(), [&](float v) { return v == g; });
    return same ? long(g) : -1;
  }
};
static_assert(ctnn::io::SerializableNet<BigNet>);

}  // namespace

TEST_CASE("a writer SIGKILLed in the middle of save() 50 times: always the old or the new complete file",
          "[io][atomic][kill]") {
  TempDir dir;
  const fs::path path = dir.path / "weights.ctnn";
  BigNet net;
  net.fill(0);
  ctnn::save(net, path);

  ctnn::Rng rng(77);
  long previous = 0;  // the generation of the complete file on disk before each kill
  int kept_old = 0, got_new = 0, stale_temp_files = 0;
  for (std::uint32_t trial = 0; trial < 50; ++trial) {
    const std::uint32_t first = (trial + 1) * 1000;  // this child's generations: first, first+1, ...
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      BigNet writer;
      for (std::uint32_t g = first;; ++g) {  // save until killed
        writer.fill(g);
        try {
          ctnn::save(writer, path);
        } catch (...) {
          ::_exit(3);
        }
      }
    }
    // Every third kill comes at once (before the child's first save can finish: the old file);
    // the others at a random moment within 50 ms (a save of 1 MiB takes a few milliseconds, more
    // on a loaded machine: mostly a new file, sometimes a kill in the middle of a write).
    if (trial % 3 != 0) std::this_thread::sleep_for(std::chrono::microseconds(rng.below(50000)));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) REQUIRE(errno == EINTR);
    REQUIRE(WIFSIGNALED(status));

    BigNet loaded;
    loaded.fill(123456);
    INFO("trial " << trial);
    REQUIRE_NOTHROW(ctnn::load(loaded, path));  // loadable: magic, sizes and CRC-32 all right
    const long g = loaded.generation();
    REQUIRE(g >= 0);  // one complete save, not a mixture
    const bool old = g == previous;
    const bool fresh = g >= long(first) && g < long(first) + 1000;
    REQUIRE((old || fresh));
    (old ? kept_old : got_new) += 1;
    previous = g;

    // A killed writer cannot remove its temporary file: it stays, under its own name, and is
    // never read. Clean up so that the directory holds only the target.
    for (const auto& e : fs::directory_iterator(dir.path))
      if (e.path() != path) {
        REQUIRE(e.path().filename().string().rfind(".weights.ctnn.tmp.", 0) == 0);
        fs::remove(e.path());
        ++stale_temp_files;
      }
  }
  // Both outcomes happened: some kills hit before the first rename, some after.
  INFO("old kept " << kept_old << ", new " << got_new << ", stale temporary files " << stale_temp_files);
  CHECK(kept_old > 0);
  CHECK(got_new > 0);
  CHECK(stale_temp_files > 0);
}
