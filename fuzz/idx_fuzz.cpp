// Fuzz harness for the IDX reader, ctnn::data::parse_idx (the code path read_idx runs after
// decompression). See fuzz/README.md for how to run it.
//
// Checked on every input: parse_idx either throws ctnn::FileError or returns an array whose
// dimensions are 1 to 8, whose byte count is the product of the dimensions and at most
// max_idx_bytes. Anything else (another exception, a crash, a hang, a huge allocation) is a bug.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "ctnn/data/idx.hpp"
#include "fuzz_main.hpp"

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "idx_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

std::vector<std::uint8_t> idx(std::uint8_t type, std::vector<std::uint32_t> dims, std::size_t data_bytes) {
  std::vector<std::uint8_t> out{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(d >> shift));
  for (std::size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<std::uint8_t>(i * 37 + 11));
  return out;
}

}  // namespace

void fuzz_one(std::span<const std::uint8_t> input) {
  ctnn_fuzz::guarded([&] {
    const ctnn::data::IdxArray a = ctnn::data::parse_idx(input, "fuzz.idx");
    require(!a.dims.empty() && a.dims.size() <= ctnn::data::max_idx_dims, "1 to 8 dimensions");
    std::size_t total = 1;
    for (const std::size_t d : a.dims) total *= d;  // bounded: the reader accepted it
    require(total == a.bytes.size(), "byte count is the product of the dimensions");
    require(a.bytes.size() <= ctnn::data::max_idx_bytes, "at most max_idx_bytes");
    require(a.count() == a.dims.front(), "count() is the first dimension");
    require(a.count() == 0 || a.item_size() * a.count() == a.bytes.size(), "item_size() * count()");
  });
}

void make_corpus(const std::filesystem::path& dir) {
  using ctnn_fuzz::write_seed;
  // Valid files.
  write_seed(dir, "valid_labels.idx1", idx(0x08, {5}, 5));
  write_seed(dir, "valid_images.idx3", idx(0x08, {2, 3, 3}, 18));
  write_seed(dir, "valid_empty.idx3", idx(0x08, {0, 28, 28}, 0));
  // Broken files, one problem each.
  auto truncated_header = idx(0x08, {2, 3, 3}, 0);
  truncated_header.resize(9);
  write_seed(dir, "broken_truncated_header.idx3", truncated_header);
  auto truncated_data = idx(0x08, {2, 3, 3}, 18);
  truncated_data.resize(truncated_data.size() - 7);
  write_seed(dir, "broken_truncated_data.idx3", truncated_data);
  write_seed(dir, "broken_trailing.idx1", idx(0x08, {3}, 4));
  write_seed(dir, "broken_huge_header.idx3", idx(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, 16));
  write_seed(dir, "broken_claims_1e12.idx2", idx(0x08, {1000000, 1000000}, 16));
  write_seed(dir, "broken_float_type.idx1", idx(0x0D, {2}, 8));
  write_seed(dir, "broken_zero_dims.idx", idx(0x08, {}, 4));
  write_seed(dir, "broken_nine_dims.idx", idx(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}, 1));
  const std::vector<std::uint8_t> gzip{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3};
  write_seed(dir, "broken_gzip_magic.idx", gzip);
  write_seed(dir, "broken_short_magic.idx", std::vector<std::uint8_t>{0, 0});
}
