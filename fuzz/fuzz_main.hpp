#pragma once
// The main() shared by the fuzz harnesses. A harness defines
//
//   void fuzz_one(std::span<const std::uint8_t> input);   // must never crash, hang or leak
//   void make_corpus(const std::filesystem::path& dir);   // writes its seed files (valid + broken)
//
// and includes this file once. The same source builds two ways:
//   - with -DCTNN_FUZZ_PERSISTENT and an AFL++ compiler that supports it (afl-clang-fast++,
//     afl-g++-fast): AFL++'s persistent, shared-memory mode, thousands of inputs per process;
//   - otherwise (the CTest build of tests/fuzz.cmake, or afl-g++ in its classic mode, run by
//     afl-fuzz with `@@`): a program that runs fuzz_one over every file and every file of every
//     directory named on the command line, so the corpus (and every crash once found) is a
//     regression test:
//         idx_fuzz fuzz/corpus/idx            -> "idx_fuzz: 14 inputs, 11 rejected, 3 accepted"
//     and `--make-corpus DIR` writes the seed corpus.
// Contract of fuzz_one: a reader may reject its input only with ctnn::FileError; any other
// exception (std::bad_alloc from a size taken on trust, std::length_error, ConfigError, ...) is a
// bug, so fuzz_one lets it escape and abort() turns it into a crash AFL++ records.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "ctnn/error.hpp"

namespace ctnn_fuzz {

// Counts of the runner; fuzz_one reports through accept()/reject().
inline std::size_t accepted = 0, rejected = 0;
inline void accept() { ++accepted; }
inline void reject() { ++rejected; }

// Runs `body`; a FileError is a clean rejection, anything else aborts (a crash to AFL++).
template <class F>
void guarded(F&& body) {
  try {
    body();
    accept();
  } catch (const ctnn::FileError&) {
    reject();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: a reader threw something other than ctnn::FileError: %s\n", e.what());
    std::abort();
  }
}

inline std::vector<std::uint8_t> read_whole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_seed(const std::filesystem::path& dir, const std::string& name, std::span<const std::uint8_t> bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
inline void write_seed(const std::filesystem::path& dir, const std::string& name, std::span<const std::byte> bytes) {
  write_seed(dir, name, std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace ctnn_fuzz

void fuzz_one(std::span<const std::uint8_t> input);
void make_corpus(const std::filesystem::path& dir);

#ifdef CTNN_FUZZ_PERSISTENT
__AFL_FUZZ_INIT();
int main() {
  __AFL_INIT();
  const unsigned char* buf = __AFL_FUZZ_TESTCASE_BUF;  // must be read after __AFL_INIT
  while (__AFL_LOOP(10000)) {
    const std::size_t len = static_cast<std::size_t>(__AFL_FUZZ_TESTCASE_LEN);
    // A copy of exactly len bytes, so an over-read is caught by ASan when it is on.
    std::vector<std::uint8_t> input(buf, buf + len);
    fuzz_one(input);
  }
  return 0;
}
#else
int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const std::string self = fs::path(argv[0]).filename().string();
  if (argc == 3 && std::string(argv[1]) == "--make-corpus") {
    make_corpus(argv[2]);
    return 0;
  }
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s FILE_OR_DIR...   run the harness over each input (regression test)\n"
                 "       %s --make-corpus DIR   write the seed corpus\n",
                 self.c_str(), self.c_str());
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path p = argv[i];
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "%s: %s is neither a file nor a directory\n", self.c_str(), argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "%s: no inputs found\n", self.c_str());
    return 2;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const std::vector<std::uint8_t> input = ctnn_fuzz::read_whole(f);
    if (files.size() > 1) std::fprintf(stderr, "%s: %s (%zu bytes)\n", self.c_str(), f.string().c_str(), input.size());
    fuzz_one(input);
  }
  if (files.size() > 1)
    std::printf("%s: %zu inputs; parses rejected with ctnn::FileError: %zu, accepted: %zu\n", self.c_str(),
                files.size(), ctnn_fuzz::rejected, ctnn_fuzz::accepted);
  return 0;
}
#endif
