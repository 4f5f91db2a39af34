#pragma once
// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic number (0x00 0x00 type ndims), then
// ndims big-endian 32-bit dimension sizes, then the items in row-major order.
//
// The reader is meant to survive any input (it is fuzzed): every header field is checked before
// it is used, and no buffer is sized from a header field. The data buffer grows only as bytes
// actually arrive, up to max_idx_bytes. Every problem is a ctnn::FileError naming the file, what
// was expected and what was found.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../config.hpp"
#include "../error.hpp"

namespace ctnn::data {

// The most item bytes the reader accepts; larger claims are refused before anything is read.
inline constexpr std::size_t max_idx_bytes = std::size_t{1} << 30;  // 1 GiB
// The most dimensions the reader accepts (MNIST uses 1 and 3).
inline constexpr std::size_t max_idx_dims = 8;

// One IDX array of unsigned bytes (type 0x08, the only type MNIST-like data uses).
struct IdxArray {
  std::vector<std::size_t> dims;    // outermost first, e.g. {10000, 28, 28}
  std::vector<std::uint8_t> bytes;  // the items in row-major order, one byte each

  // Number of items along the first dimension (samples), 0 for an empty array.
  std::size_t count() const { return dims.empty() ? 0 : dims.front(); }
  // Number of bytes per item of the first dimension (28 * 28 for an image file).
  std::size_t item_size() const {
    std::size_t size = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) size *= dims[i];
    return size;
  }
};

namespace detail {

// "10000 x 28 x 28"
CTNN_COLD inline std::string format_dims(std::span<const std::size_t> dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) text += " x ";
    text += std::to_string(dims[i]);
  }
  return text;
}

// "00 00 08 03"
CTNN_COLD inline std::string format_hex(std::span<const std::uint8_t> bytes) {
  std::string text;
  char hex[4];
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned>(bytes[i]));
    if (i > 0) text += ' ';
    text += hex;
  }
  return text;
}

CTNN_COLD inline std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

// What the IDX type byte means, for error messages.
CTNN_COLD inline std::string idx_type_name(std::uint8_t type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "16-bit integer";
    case 0x0C:
      return "32-bit integer";
    case 0x0D:
      return "32-bit float";
    case 0x0E:
      return "64-bit float";
    default:
      return "not an IDX type";
  }
}

// The reader proper, over any byte source with `std::size_t read(std::uint8_t* dst, std::size_t n)`
// that returns fewer than n bytes only at the end of the data. Shared by files and memory so the
// fuzzed code path is the one users run.
template <class Source>
CTNN_COLD IdxArray read_idx_from(Source& source, const std::string& name) {
  // Reads up to n bytes, stopping early only at the end of the data.
  const auto read_some = [&](std::uint8_t* dst, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const std::size_t step = source.read(dst + got, n - got);
      if (step == 0) break;
      got += step;
    }
    return got;
  };

  std::array<std::uint8_t, 4> magic{};
  const std::size_t magic_read = read_some(magic.data(), magic.size());
  if (magic_read == 0) throw FileError(name, "an IDX file", "an empty file");
  if (magic_read < magic.size())
    throw FileError(name, "a 4-byte IDX magic number (00 00 type ndims)",
                    "only " + plural(magic_read, "byte"));
  if (magic[0] != 0 || magic[1] != 0) {
    std::string found = format_hex(magic);
    if (magic[0] == 0x1f && magic[1] == 0x8b)
      found += " (a gzip stream: read the file with read_idx)";
    throw FileError(name, "an IDX magic number 00 00 <type> <ndims>", found);
  }
  if (magic[2] != 0x08)
    throw FileError(name, "IDX type 0x08 (unsigned byte)",
                    "type 0x" + format_hex(std::span(magic).subspan(2, 1)) + " (" +
                        idx_type_name(magic[2]) + ", not supported)");
  const std::size_t ndims = magic[3];
  if (ndims == 0 || ndims > max_idx_dims)
    throw FileError(name, "1 to " + std::to_string(max_idx_dims) + " dimensions",
                    std::to_string(ndims) + " in the magic number " + format_hex(magic));

  std::array<std::uint8_t, 4 * max_idx_dims> header{};
  const std::size_t header_size = 4 * ndims;
  const std::size_t header_read = read_some(header.data(), header_size);
  if (header_read < header_size)
    throw FileError(name,
                    "an IDX header of " + plural(4 + header_size, "byte") + " (magic and " +
                        plural(ndims, "dimension") + ")",
                    "only " + plural(4 + header_read, "byte"));

  IdxArray array;
  array.dims.resize(ndims);
  std::size_t total = 1;
  bool overflow = false;
  for (std::size_t d = 0; d < ndims; ++d) {
    const std::uint8_t* p = header.data() + 4 * d;
    array.dims[d] = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                    (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    overflow = overflow || __builtin_mul_overflow(total, array.dims[d], &total);
  }
  // A product of zero stays zero, so a zero dimension anywhere means no data at all.
  if (std::find(array.dims.begin(), array.dims.end(), 0) != array.dims.end()) {
    total = 0;
    overflow = false;
  }
  const std::string shape = format_dims(array.dims);
  if (overflow || total > max_idx_bytes)
    throw FileError(
        name, "at most " + std::to_string(max_idx_bytes) + " bytes of data (the reader's limit)",
        "a header claiming " + (overflow ? std::string("more than 2^64") : std::to_string(total)) +
            " bytes (" + shape + ")");

  // Data arrives through a fixed scratch buffer and is appended, so the array grows only with
  // bytes actually read: a lying header cannot cause a large allocation.
  constexpr std::size_t scratch_size = std::size_t{1} << 16;
  std::array<std::uint8_t, scratch_size> scratch;
  while (array.bytes.size() < total) {
    const std::size_t want = std::min(scratch.size(), total - array.bytes.size());
    const std::size_t got = read_some(scratch.data(), want);
    array.bytes.insert(array.bytes.end(), scratch.data(), scratch.data() + got);
    if (got < want)
      throw FileError(name, plural(total, "byte") + " of data (" + shape + ")",
                      std::to_string(array.bytes.size()));
  }

  // Anything after the data means the header does not describe the file.
  // Counting stops after a few chunks: enough to report, and no time spent on a gzip bomb.
  constexpr std::size_t trailing_count_limit = 16 * scratch_size;
  std::size_t trailing = 0;
  for (std::size_t step;
       trailing < trailing_count_limit && (step = read_some(scratch.data(), scratch.size())) > 0;)
    trailing += step;
  if (trailing > 0)
    throw FileError(
        name, "the end of the file after " + plural(total, "byte") + " of data (" + shape + ")",
        (trailing >= trailing_count_limit ? "at least " : "") + std::to_string(trailing) +
            " trailing " + (trailing == 1 ? "byte" : "bytes"));
  return array;
}

// A byte source over memory.
struct MemorySource {
  std::span<const std::uint8_t> data;
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    const std::size_t step = std::min(n, data.size());
    if (step > 0) std::memcpy(dst, data.data(), step);
    data = data.subspan(step);
    return step;
  }
};

// A byte source over a file, gzipped or not (zlib reads plain files transparently).
class GzipSource {
 public:
  GzipSource(gzFile file, std::string name) : file_(file), name_(std::move(name)) {}

  std::size_t read(std::uint8_t* dst, std::size_t n) {
    const unsigned request = static_cast<unsigned>(std::min<std::size_t>(n, INT_MAX));
    const int got = gzread(file_.get(), dst, request);
    int status = Z_OK;
    const char* message = gzerror(file_.get(), &status);
    // A gzip stream cut short reads as Z_BUF_ERROR; say so rather than report short data.
    if (got < 0 || (status != Z_OK && status != Z_STREAM_END))
      throw FileError(name_, "a readable IDX file or gzip stream",
                      status == Z_BUF_ERROR ? std::string("a truncated gzip stream")
                      : status == Z_ERRNO
                          ? std::string("a read error (") + std::strerror(errno) + ")"
                          : std::string("a corrupt gzip stream (") +
                                (message ? message : "unknown error") + ")");
    return static_cast<std::size_t>(got);
  }

 private:
  struct Close {
    void operator()(gzFile file) const { gzclose(file); }
  };
  std::unique_ptr<gzFile_s, Close> file_;
  std::string name_;
};

}  // namespace detail

// Parses an IDX array from memory (already decompressed). `name` is the file name used in errors.
CTNN_COLD inline IdxArray parse_idx(std::span<const std::uint8_t> bytes, std::string_view name) {
  detail::MemorySource source{bytes};
  return detail::read_idx_from(source, std::string(name));
}

// Reads an IDX file, gzipped or not.
CTNN_COLD inline IdxArray read_idx(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    throw FileError(name, "an IDX file", "nothing (no such file)");
  if (ec)
    throw FileError(name, "an IDX file", "a path that cannot be examined (" + ec.message() + ")");
  if (std::filesystem::is_directory(status)) throw FileError(name, "an IDX file", "a directory");

  errno = 0;
  gzFile file = gzopen(name.c_str(), "rb");
  if (file == nullptr)
    throw FileError(name, "a readable IDX file",
                    std::string("a file that cannot be opened (") +
                        (errno != 0 ? std::strerror(errno) : "out of memory") + ")");
  detail::GzipSource source(file, name);
  gzbuffer(file, 1u << 17);  // fewer system calls than the 8 KiB default
  return detail::read_idx_from(source, name);
}

}  // namespace ctnn::data
