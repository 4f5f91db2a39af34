// The IDX reader: valid files (plain and gzipped) and every way a file can be wrong.
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "ctnn/data/idx.hpp"
#include "ctnn/random.hpp"
#include "temp_dir.hpp"

// The largest single allocation since the last reset: proves a lying header allocates nothing big.
// Every non-aligned form of new and delete is replaced, so the pairs match (sanitizers check).
namespace {
std::atomic<std::size_t> largest_allocation{0};

void* tracked_malloc(std::size_t size) noexcept {
  std::size_t seen = largest_allocation.load(std::memory_order_relaxed);
  while (size > seen && !largest_allocation.compare_exchange_weak(seen, size)) {
  }
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = tracked_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = tracked_malloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return tracked_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return tracked_malloc(size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

namespace fs = std::filesystem;
using ctnn::FileError;
using ctnn::data::parse_idx;
using ctnn::data::read_idx;
using Bytes = std::vector<std::uint8_t>;

// A fresh directory under the system temp dir, removed at the end of the test.
// An IDX header for unsigned bytes with the given dimensions, then `data`.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& data,
                std::uint8_t type = 0x08) {
  Bytes bytes{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<std::uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

Bytes iota_bytes(std::size_t n) {
  Bytes data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return data;
}

void write_plain(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const fs::path& path, const Bytes& bytes) {
  gzFile file = gzopen(path.string().c_str(), "wb");
  REQUIRE(file != nullptr);
  if (!bytes.empty()) REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  REQUIRE(gzclose(file) == Z_OK);
}

Bytes read_raw(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// The FileError that parsing `bytes` throws.
FileError parse_error(const Bytes& bytes, std::string_view name = "x.idx") {
  try {
    parse_idx(bytes, name);
  } catch (const FileError& error) {
    return error;
  }
  FAIL("parse_idx accepted a bad file");
  throw;  // not reached
}

FileError read_error(const fs::path& path) {
  try {
    read_idx(path);
  } catch (const FileError& error) {
    return error;
  }
  FAIL("read_idx accepted a bad file: " << path);
  throw;  // not reached
}

}  // namespace

TEST_CASE("parse_idx reads dimensions and bytes", "[data][idx]") {
  const Bytes data = iota_bytes(2 * 3 * 4);
  const auto array = parse_idx(idx_bytes({2, 3, 4}, data), "small.idx");
  CHECK(array.dims == std::vector<std::size_t>{2, 3, 4});
  CHECK(array.count() == 2);
  CHECK(array.item_size() == 12);
  CHECK(array.bytes == data);

  const auto labels = parse_idx(idx_bytes({5}, {0, 1, 2, 9, 255}), "labels.idx");
  CHECK(labels.dims == std::vector<std::size_t>{5});
  CHECK(labels.bytes == Bytes{0, 1, 2, 9, 255});
}

TEST_CASE("parse_idx accepts a zero dimension as an empty array", "[data][idx]") {
  const auto array = parse_idx(idx_bytes({0, 28, 28}, {}), "empty.idx");
  CHECK(array.dims == std::vector<std::size_t>{0, 28, 28});
  CHECK(array.bytes.empty());
  CHECK(array.count() == 0);
}

TEST_CASE("read_idx reads plain and gzipped files alike", "[data][idx]") {
  TempDir dir;
  const Bytes file = idx_bytes({3, 5, 7}, iota_bytes(3 * 5 * 7));
  write_plain(dir / "images-idx3-ubyte", file);
  write_gzip(dir / "images-idx3-ubyte.gz", file);
  REQUIRE(read_raw(dir / "images-idx3-ubyte.gz") != file);  // really compressed

  const auto plain = read_idx(dir / "images-idx3-ubyte");
  const auto gzipped = read_idx(dir / "images-idx3-ubyte.gz");
  CHECK(plain.dims == std::vector<std::size_t>{3, 5, 7});
  CHECK(plain.bytes == iota_bytes(3 * 5 * 7));
  CHECK(gzipped.dims == plain.dims);
  CHECK(gzipped.bytes == plain.bytes);
}

TEST_CASE("read_idx reads a file larger than its internal chunks", "[data][idx]") {
  TempDir dir;
  const Bytes data = iota_bytes(300 * 1000);
  write_gzip(dir / "big.gz", idx_bytes({300, 1000}, data));
  const auto array = read_idx(dir / "big.gz");
  CHECK(array.dims == std::vector<std::size_t>{300, 1000});
  CHECK(array.bytes == data);
}

TEST_CASE("read_idx reports a missing file or a directory", "[data][idx]") {
  TempDir dir;
  const auto missing = read_error(dir / "t10k-images-idx3-ubyte.gz");
  CHECK(missing.path() == (dir / "t10k-images-idx3-ubyte.gz").string());
  CHECK(std::string(missing.what()) == (dir / "t10k-images-idx3-ubyte.gz").string() +
                                           ": expected an IDX file, found nothing (no such file)");

  const auto directory = read_error(dir.path);
  CHECK(directory.found() == "a directory");
}

TEST_CASE("read_idx reports an empty file", "[data][idx]") {
  TempDir dir;
  write_plain(dir / "empty", {});
  CHECK(read_error(dir / "empty").found() == "an empty file");
  write_gzip(dir / "empty.gz", {});
  CHECK(read_error(dir / "empty.gz").found() == "an empty file");
}

TEST_CASE("parse_idx rejects a wrong magic number", "[data][idx]") {
  auto bytes = idx_bytes({2}, {1, 2});
  bytes[0] = 0x01;
  const auto error = parse_error(bytes);
  CHECK(error.path() == "x.idx");
  CHECK(error.expected() == "an IDX magic number 00 00 <type> <ndims>");
  CHECK(error.found() == "01 00 08 01");

  // Compressed bytes handed to the in-memory parser: say what they are.
  CHECK_THAT(parse_error({0x1f, 0x8b, 0x08, 0x00, 0x00}).found(), Catch::Contains("gzip stream"));
  // A text file.
  CHECK(parse_error({'h', 'e', 'l', 'l', 'o'}).found() == "68 65 6c 6c");
}

TEST_CASE("parse_idx rejects unsupported item types", "[data][idx]") {
  const auto float_file = parse_error(idx_bytes({1}, {0, 0, 0, 0}, 0x0D));
  CHECK(float_file.expected() == "IDX type 0x08 (unsigned byte)");
  CHECK(float_file.found() == "type 0x0d (32-bit float, not supported)");
  CHECK_THAT(parse_error(idx_bytes({1}, {0}, 0x42)).found(), Catch::Contains("not an IDX type"));
}

TEST_CASE("parse_idx rejects zero or too many dimensions", "[data][idx]") {
  CHECK(parse_error({0, 0, 8, 0}).expected() == "1 to 8 dimensions");
  CHECK_THAT(parse_error({0, 0, 8, 9}).found(), Catch::StartsWith("9 "));
  CHECK_THAT(parse_error({0, 0, 8, 255}).found(), Catch::StartsWith("255 "));
}

TEST_CASE("parse_idx rejects a truncated header", "[data][idx]") {
  CHECK(parse_error({0, 0}).found() == "only 2 bytes");
  const auto full = idx_bytes({10000, 28, 28}, {});
  for (std::size_t cut = 4; cut < full.size(); ++cut) {
    const auto error =
        parse_error(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut)));
    CHECK(error.expected() == "an IDX header of 16 bytes (magic and 3 dimensions)");
    CHECK(error.found() == "only " + std::to_string(cut) + " bytes");
  }
}

TEST_CASE("parse_idx rejects truncated data with the counts", "[data][idx]") {
  const auto bytes = idx_bytes({10000, 28, 28}, iota_bytes(1234));
  CHECK(std::string(parse_error(bytes, "t10k-images-idx3-ubyte.gz").what()) ==
        "t10k-images-idx3-ubyte.gz: expected 7840000 bytes of data (10000 x 28 x 28), found 1234");
  CHECK(parse_error(idx_bytes({3}, {1, 2})).found() == "2");
  CHECK(parse_error(idx_bytes({3}, {})).found() == "0");
}

TEST_CASE("parse_idx rejects trailing bytes", "[data][idx]") {
  const auto one = parse_error(idx_bytes({2}, {1, 2, 3}));
  CHECK(one.expected() == "the end of the file after 2 bytes of data (2)");
  CHECK(one.found() == "1 trailing byte");
  CHECK(parse_error(idx_bytes({2, 2}, iota_bytes(9))).found() == "5 trailing bytes");
  // Lots of garbage is counted only so far.
  CHECK_THAT(parse_error(idx_bytes({1}, Bytes(5'000'000, 0))).found(),
             Catch::StartsWith("at least "));
}

TEST_CASE("a header claiming huge sizes fails cleanly without a huge allocation", "[data][idx]") {
  // 10^12 items: over the reader's limit, refused before any data is read.
  largest_allocation = 0;
  const auto huge = parse_error(idx_bytes({1'000'000, 1'000'000}, {1, 2, 3}));
  CHECK(huge.expected() == "at most 1073741824 bytes of data (the reader's limit)");
  CHECK(huge.found() == "a header claiming 1000000000000 bytes (1000000 x 1000000)");
  CHECK(largest_allocation < (std::size_t{1} << 20));

  // A product that overflows 64 bits.
  const auto overflow = parse_error(idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {}));
  CHECK_THAT(overflow.found(), Catch::Contains("more than 2^64"));

  // Under the limit (512 MiB) but a tiny file: the error comes from the data, not from memory.
  largest_allocation = 0;
  const auto truncated = parse_error(idx_bytes({512, 1024, 1024}, {1, 2, 3}));
  CHECK(truncated.found() == "3");
  CHECK(largest_allocation < (std::size_t{1} << 20));

  // The same through a gzipped file.
  TempDir dir;
  write_gzip(dir / "liar.gz", idx_bytes({512, 1024, 1024}, iota_bytes(100)));
  largest_allocation = 0;
  CHECK(read_error(dir / "liar.gz").found() == "100");
  CHECK(largest_allocation < (std::size_t{1} << 20));
}

TEST_CASE("read_idx reports a truncated or corrupt gzip stream", "[data][idx]") {
  TempDir dir;
  // Incompressible data so the cut falls inside the deflate stream.
  ctnn::Rng rng(7);
  Bytes noise(20000);
  for (auto& b : noise) b = static_cast<std::uint8_t>(rng.below(256));
  write_gzip(dir / "whole.gz", idx_bytes({20000}, noise));
  REQUIRE(read_idx(dir / "whole.gz").bytes == noise);

  auto compressed = read_raw(dir / "whole.gz");
  write_plain(dir / "cut.gz", Bytes(compressed.begin(), compressed.begin() + 5000));
  const auto cut = read_error(dir / "cut.gz");
  CHECK(cut.found() == "a truncated gzip stream");
  CHECK(cut.path() == (dir / "cut.gz").string());

  for (std::size_t i = 100; i < 200; ++i) compressed[i] ^= 0x5A;
  write_plain(dir / "corrupt.gz", compressed);
  CHECK_THAT(read_error(dir / "corrupt.gz").found(), Catch::StartsWith("a corrupt gzip stream"));
}

TEST_CASE("parse_idx survives random damage with FileError only", "[data][idx]") {
  // A small fuzz pass: flip, cut and extend a valid file; anything other than success or a
  // FileError (a crash, another exception) fails the test.
  const Bytes valid = idx_bytes({4, 3, 2}, iota_bytes(24));
  ctnn::Rng rng(2024);
  std::size_t accepted = 0, rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes bytes = valid;
    const auto edits = 1 + rng.below(4);
    for (std::uint64_t e = 0; e < edits; ++e) {
      switch (rng.below(3)) {
        case 0:
          bytes[rng.below(bytes.size())] = static_cast<std::uint8_t>(rng.below(256));
          break;
        case 1:
          bytes.resize(rng.below(bytes.size() + 1));
          break;
        default:
          bytes.push_back(static_cast<std::uint8_t>(rng.below(256)));
          break;
      }
      if (bytes.empty()) bytes.push_back(0);
    }
    try {
      const auto array = parse_idx(bytes, "fuzz");
      std::size_t product = 1;
      for (const auto d : array.dims) product *= d;
      REQUIRE(product == array.bytes.size());
      ++accepted;
    } catch (const FileError&) {
      ++rejected;
    }
  }
  CHECK(accepted > 0);
  CHECK(rejected > 0);
}
