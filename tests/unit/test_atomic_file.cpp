// io/atomic_file.hpp: atomic replacement, failure paths, no temporary files left behind.
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/io/atomic_file.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::vector<std::byte> bytes_of(const std::string& s) {
  const auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

}  // namespace

TEST_CASE("write_file_atomically creates and replaces files", "[io][atomic]") {
  TempDir dir;
  const auto target = dir.path / "weights.bin";

  std::string content;
  for (int i = 0; i < 100000; ++i) content += static_cast<char>(i * 7);  // binary, with NULs
  ctnn::io::write_file_atomically(target, bytes_of(content));
  CHECK(slurp(target) == content);

  ctnn::io::write_file_atomically(target, std::string_view("replaced"));
  CHECK(slurp(target) == "replaced");

  ctnn::io::write_file_atomically(target, std::span<const std::byte>());
  CHECK(fs::file_size(target) == 0);

  CHECK(names_in(dir.path) == std::set<std::string>{"weights.bin"});
}

TEST_CASE("AtomicFile writes in pieces and commits once", "[io][atomic]") {
  TempDir dir;
  const auto target = dir.path / "log.txt";
  spit(target, "old");
  {
    ctnn::io::AtomicFile f(target);
    CHECK(f.temp_path().parent_path() == dir.path);
    CHECK(f.temp_path().filename().string().rfind(".log.txt.tmp.", 0) == 0);
    f.write(std::string_view("hello, "));
    f.write(std::string_view("world"));
    CHECK(f.bytes_written() == 12);
    CHECK(slurp(target) == "old");  // nothing visible before commit
    f.commit();
    CHECK_THROWS_AS(f.write(std::string_view("more")), ctnn::FileError);
  }
  CHECK(slurp(target) == "hello, world");
  CHECK(names_in(dir.path) == std::set<std::string>{"log.txt"});
}

TEST_CASE("AtomicFile abandoned without commit leaves the old file and no temp file", "[io][atomic]") {
  TempDir dir;
  const auto target = dir.path / "a.txt";
  spit(target, "old contents");
  try {
    ctnn::io::AtomicFile f(target);
    f.write(std::string_view("half-written"));
    throw std::runtime_error("simulated failure while producing the data");
  } catch (const std::runtime_error&) {
  }
  CHECK(slurp(target) == "old contents");
  CHECK(names_in(dir.path) == std::set<std::string>{"a.txt"});
}

TEST_CASE("unwritable locations throw FileError naming the path and errno text", "[io][atomic]") {
  TempDir dir;
  const auto data = bytes_of("data");

  SECTION("directory does not exist") {
    const auto target = dir.path / "missing" / "out.bin";
    try {
      ctnn::io::write_file_atomically(target, data);
      FAIL("no exception");
    } catch (const ctnn::FileError& e) {
      CHECK(e.path() == target.string());
      CHECK_THAT(e.what(), Catch::Contains("No such file or directory"));
      CHECK_THAT(e.what(), Catch::Contains("creating temporary file"));
    }
  }
  SECTION("parent is a regular file (works as root, unlike chmod)") {
    spit(dir.path / "plain", "I am a file");
    const auto target = dir.path / "plain" / "out.bin";
    try {
      ctnn::io::write_file_atomically(target, data);
      FAIL("no exception");
    } catch (const ctnn::FileError& e) {
      CHECK(e.path() == target.string());
      CHECK_THAT(e.what(), Catch::Contains("Not a directory"));
    }
    CHECK(slurp(dir.path / "plain") == "I am a file");
  }
  SECTION("/proc does not accept new files") {
    CHECK_THROWS_AS(ctnn::io::write_file_atomically("/proc/ctnn-atomic-test.bin", data), ctnn::FileError);
  }
  SECTION("empty path and directory path") {
    CHECK_THROWS_AS(ctnn::io::write_file_atomically("", data), ctnn::FileError);
    CHECK_THROWS_AS(ctnn::io::write_file_atomically(dir.path.string() + "/", data), ctnn::FileError);
  }
  CHECK(names_in(dir.path).count("missing") == 0);
}

TEST_CASE("rename failure (target is a non-empty directory) removes the temp file", "[io][atomic]") {
  TempDir dir;
  const auto target = dir.path / "target";
  fs::create_directory(target);
  spit(target / "keep.txt", "keep");
  try {
    ctnn::io::write_file_atomically(target, std::string_view("data"));
    FAIL("no exception");
  } catch (const ctnn::FileError& e) {
    CHECK(e.path() == target.string());
    CHECK_THAT(e.what(), Catch::Contains("renaming"));
  }
  CHECK(names_in(dir.path) == std::set<std::string>{"target"});
  CHECK(slurp(target / "keep.txt") == "keep");
}

TEST_CASE("a write error (file size limit, EFBIG) keeps the old file and removes the temp file", "[io][atomic]") {
  TempDir dir;
  const auto target = dir.path / "big.bin";
  spit(target, "old");

  rlimit old_limit{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing us
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);

  std::string message;
  try {
    ctnn::io::write_file_atomically(target, bytes_of(std::string(100000, 'x')));
  } catch (const ctnn::FileError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  ::signal(SIGXFSZ, old_handler);

  CHECK_THAT(message, Catch::Contains("File too large"));
  CHECK_THAT(message, Catch::Contains(target.string()));
  CHECK(slurp(target) == "old");
  CHECK(names_in(dir.path) == std::set<std::string>{"big.bin"});
}

TEST_CASE("a full disk (ENOSPC on a 64 KiB tmpfs) keeps the old file and removes the temp file", "[io][atomic]") {
  TempDir dir;
  const auto mnt = dir.path / "small";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0) {
    WARN("skipped: cannot mount a tmpfs here (" << std::strerror(errno) << "); ENOSPC not tested");
    return;
  }
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};

  const auto target = mnt / "weights.bin";
  ctnn::io::write_file_atomically(target, std::string_view("old weights"));
  std::string message;
  try {
    ctnn::io::write_file_atomically(target, bytes_of(std::string(1 << 20, 'w')));
  } catch (const ctnn::FileError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Catch::Contains("No space left on device"));
  CHECK(slurp(target) == "old weights");
  CHECK(names_in(mnt) == std::set<std::string>{"weights.bin"});
}

TEST_CASE("read_file caps what it reads and reports the full size", "[io][atomic]") {
  TempDir dir;
  const auto p = dir.path / "f.bin";
  spit(p, "0123456789");
  auto all = ctnn::io::read_file(p, 100);
  CHECK(all.size == 10);
  CHECK(all.bytes.size() == 10);
  auto capped = ctnn::io::read_file(p, 4);
  CHECK(capped.size == 10);
  REQUIRE(capped.bytes.size() == 4);
  CHECK(static_cast<char>(capped.bytes[3]) == '3');

  CHECK_THROWS_WITH(ctnn::io::read_file(dir.path / "nope", 10), Catch::Contains("No such file or directory"));
  CHECK_THROWS_WITH(ctnn::io::read_file(dir.path, 10), Catch::Contains("found a directory"));
}
