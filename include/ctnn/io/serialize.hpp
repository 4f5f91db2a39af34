#pragma once
// Saving and loading a net's weights, and the Archive container that checkpoints build on.
// The byte-by-byte format is documented in docs/file-format.md.
//
//   ctnn::save(net, "model.ctnn");   // atomic: the old file survives any failure
//   ctnn::load(net, "model.ctnn");   // all-or-nothing: on any error the net is unchanged
//
// load() contract
//   requires: N satisfies io::SerializableNet (the Net API of docs/design.md).
//   ensures:  the file is the weights of exactly this architecture (signature string equal,
//             its hash consistent, parameter and buffer counts and scalar width equal), it has
//             the expected size, and its CRC-32 matches; only then are the values copied into
//             the net. Otherwise a ctnn::FileError says what was expected and what was found, and
//             the net is untouched. The amount read and allocated is bounded by the size
//             computed from the net's type (plus 64 KiB of slack for reading a foreign header),
//             never by numbers found in the file.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/error.hpp"
#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/binary.hpp"

namespace ctnn::io {

// ---------------------------------------------------------------------------------------------
// Hashes

// FNV-1a, 64 bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
constexpr std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// CRC-32 (zlib's: polynomial 0xEDB88320 reflected, init and final xor 0xFFFFFFFF; "123456789"
// gives 0xCBF43926).
inline std::uint32_t crc32(std::span<const std::byte> bytes) noexcept {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {
    const uInt chunk = left > (1u << 30) ? (1u << 30) : static_cast<uInt>(left);
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    left -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

namespace detail {
inline std::string hex(std::uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}
inline std::string describe_magic(std::span<const std::byte> m) {
  std::string printable, bytes;
  for (const std::byte b : m) {
    const auto c = static_cast<unsigned char>(b);
    printable += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    bytes += (bytes.empty() ? "" : " ") + hex(c, 2);
  }
  return "\"" + printable + "\" (" + bytes + ")";
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// What save/load need from a net (docs/design.md): a static architecture signature, a static
// parameter count, and flat spans of parameters and buffers (const access for saving).

template <class N>
using net_scalar_t = std::remove_cvref_t<std::ranges::range_value_t<decltype(std::declval<N&>().parameters())>>;

template <class N>
concept SerializableNet = requires(N& net, const N& cnet) {
  { N::signature() } -> std::convertible_to<std::string>;
  { N::parameter_count } -> std::convertible_to<std::size_t>;
  { net.parameters() } -> std::ranges::contiguous_range;
  { net.buffers() } -> std::ranges::contiguous_range;
  { cnet.parameters() } -> std::ranges::contiguous_range;
  { cnet.buffers() } -> std::ranges::contiguous_range;
  requires std::floating_point<net_scalar_t<N>>;
  requires std::same_as<net_scalar_t<N>, std::remove_cvref_t<std::ranges::range_value_t<decltype(net.buffers())>>>;
};

// The values of a net, read but not yet applied.
template <class T>
struct NetValues {
  std::vector<T> parameters, buffers;
};

namespace detail {
template <SerializableNet N>
void check_net_consistent(const N& net) {
  // A net whose span disagrees with its static count is a bug in the net, not in the file.
  if (std::ranges::size(net.parameters()) != N::parameter_count)
    throw ConfigError("ctnn::save/load: net.parameters().size() (" + std::to_string(std::ranges::size(net.parameters())) +
                      ") differs from parameter_count (" + std::to_string(N::parameter_count) + ") for " +
                      std::string(N::signature()));
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The net record: signature .. buffer values. The weights file wraps it in magic, version and
// checksum; a checkpoint stores it as the archive section "net".

template <SerializableNet N>
std::size_t net_record_size(const N& net) {
  using T = net_scalar_t<N>;
  const std::string sig = N::signature();
  return 8 + sig.size() + 8 + 8 + 8 + 4 + sizeof(T) * (N::parameter_count + std::ranges::size(net.buffers()));
}

template <SerializableNet N>
void write_net_record(BinaryWriter& w, const N& net) {
  using T = net_scalar_t<N>;
  detail::check_net_consistent(net);
  const std::string sig = N::signature();
  w.string(sig);
  w.u64(fnv1a64(sig));
  w.u64(N::parameter_count);
  w.u64(std::ranges::size(net.buffers()));
  w.u32(static_cast<std::uint32_t>(sizeof(T)));
  w.values(std::span<const T>(std::ranges::data(net.parameters()), std::ranges::size(net.parameters())));
  w.values(std::span<const T>(std::ranges::data(net.buffers()), std::ranges::size(net.buffers())));
}

// Reads and checks a net record against the architecture of `net` (which is not modified).
template <SerializableNet N>
NetValues<net_scalar_t<N>> read_net_record(BinaryReader& r, const N& net) {
  using T = net_scalar_t<N>;
  detail::check_net_consistent(net);
  const std::string expected_sig = N::signature();
  const std::uint64_t expected_buffers = std::ranges::size(net.buffers());

  const std::string sig = r.string("architecture signature");
  const std::size_t hash_at = r.position();
  const std::uint64_t hash = r.u64("signature hash");
  if (hash != fnv1a64(sig))
    r.fail_at(hash_at, "signature hash " + detail::hex(fnv1a64(sig), 16) + " (FNV-1a of the stored signature)",
              detail::hex(hash, 16) + ": the header is corrupted");
  if (sig != expected_sig) r.fail("architecture " + expected_sig, sig);

  const std::size_t counts_at = r.position();
  const std::uint64_t params = r.u64("parameter count");
  if (params != N::parameter_count)
    r.fail_at(counts_at, std::to_string(N::parameter_count) + " parameters", std::to_string(params));
  const std::uint64_t buffers = r.u64("buffer count");
  if (buffers != expected_buffers)
    r.fail_at(counts_at + 8, std::to_string(expected_buffers) + " buffer values", std::to_string(buffers));
  const std::uint32_t width = r.u32("scalar width");
  if (width != sizeof(T))
    r.fail_at(counts_at + 16, std::to_string(sizeof(T)) + "-byte scalars (" + (sizeof(T) == 4 ? "float" : "double") + ")",
              std::to_string(width) + "-byte scalars");

  NetValues<T> values;  // sized from the net's type, never from the file
  values.parameters.resize(N::parameter_count);
  values.buffers.resize(static_cast<std::size_t>(expected_buffers));
  r.values(std::span<T>(values.parameters), "parameter values");
  r.values(std::span<T>(values.buffers), "buffer values");
  return values;
}

// Copies values read by read_net_record into the net (cannot fail).
template <SerializableNet N>
void assign(N& net, const NetValues<net_scalar_t<N>>& values) noexcept {
  std::ranges::copy(values.parameters, std::ranges::begin(net.parameters()));
  std::ranges::copy(values.buffers, std::ranges::begin(net.buffers()));
}

// ---------------------------------------------------------------------------------------------
// The weights file: "CTNN", format version, net record, CRC-32.

inline constexpr std::array<char, 4> weights_magic{'C', 'T', 'N', 'N'};
inline constexpr std::array<char, 4> archive_magic{'C', 'T', 'N', 'A'};
inline constexpr std::uint32_t weights_format_version = 1;
inline constexpr std::uint32_t archive_format_version = 1;
// Extra bytes load() reads beyond the expected size, so that a file of another architecture
// still yields its signature in the message and trailing bytes are counted exactly.
inline constexpr std::size_t header_slack_bytes = 64 * 1024;

template <SerializableNet N>
std::size_t weights_file_size(const N& net) {
  return 4 + 4 + net_record_size(net) + 4;
}

template <SerializableNet N>
std::vector<std::byte> weights_to_bytes(const N& net) {
  BinaryWriter w;
  w.reserve(weights_file_size(net));
  w.raw(std::string_view(weights_magic.data(), weights_magic.size()));
  w.u32(weights_format_version);
  write_net_record(w, net);
  w.u32(crc32(w.bytes()));
  return w.take();
}

namespace detail {
inline void check_magic(BinaryReader& r, const std::array<char, 4>& want, std::string_view kind) {
  const auto other = (want == weights_magic) ? archive_magic : weights_magic;
  const std::string_view other_kind = (want == weights_magic) ? "a ctnn archive (checkpoint); load it with ctnn::io::Archive::load"
                                                              : "a ctnn weights file; load it with ctnn::load";
  if (r.size() == 0) r.fail(std::string(kind) + " (magic \"" + std::string(want.data(), 4) + "\")", "an empty file");
  const auto m = r.take(4, "magic");
  if (std::ranges::equal(m, std::as_bytes(std::span(want)))) return;
  if (std::ranges::equal(m, std::as_bytes(std::span(other))))
    r.fail_at(0, std::string(kind) + " (magic \"" + std::string(want.data(), 4) + "\")", std::string(other_kind));
  r.fail_at(0, std::string(kind) + " (magic \"" + std::string(want.data(), 4) + "\")",
            "magic " + describe_magic(m) + ": not a ctnn file");
}

inline void check_version(BinaryReader& r, std::uint32_t supported) {
  const std::uint32_t v = r.u32("format version");
  if (v != supported)
    r.fail_at(4, "format version " + std::to_string(supported),
              "version " + std::to_string(v) + (v > supported ? " (written by a newer ctnn)" : ""));
}

// The last 4 bytes of `data` are the CRC-32 of the ones before.
inline void check_crc(const BinaryReader& r) {
  const auto data = r.data();
  BinaryReader tail(data.subspan(data.size() - 4), r.path());
  const std::uint32_t stored = tail.u32("checksum");
  const std::uint32_t computed = crc32(data.first(data.size() - 4));
  if (stored != computed)
    r.fail_at(data.size() - 4, "CRC-32 " + hex(computed, 8) + " of bytes 0.." + std::to_string(data.size() - 5),
              hex(stored, 8) + ": checksum mismatch, the file is corrupted");
}
}  // namespace detail

// Parses a weights file held in memory into the net; `file_size` is the full size of the file
// when `data` holds only its first bytes (see read_file). All-or-nothing, like load().
template <SerializableNet N>
void weights_from_bytes(N& net, std::span<const std::byte> data, const std::string& path,
                        std::uint64_t file_size = std::uint64_t(-1)) {
  if (file_size == std::uint64_t(-1)) file_size = data.size();
  const std::size_t expected = weights_file_size(net);
  BinaryReader r(data, path);
  detail::check_magic(r, weights_magic, "a ctnn weights file");
  // Right size: a bit flip anywhere must read "checksum mismatch", so check it before the fields.
  const bool exact = file_size == expected && data.size() == expected;
  if (exact) detail::check_crc(r);
  detail::check_version(r, weights_format_version);
  auto values = read_net_record(r, net);
  r.u32("checksum");
  if (file_size != r.position())
    r.fail_at(r.position(), "end of file after the checksum (file size " + std::to_string(expected) + ")",
              std::to_string(file_size - r.position()) + " trailing bytes");
  if (!exact) detail::check_crc(r);  // unreachable in practice: the size check above implies exact
  assign(net, values);
}

// ---------------------------------------------------------------------------------------------
// Archive: named sections of bytes in one checksummed file, for checkpoints
// (sections such as "net" (a net record), "optimizer", "rng", "history").

class Archive {
 public:
  struct Section {
    std::string name;
    std::vector<std::byte> data;
  };
  static constexpr std::size_t max_name_length = 255;

  Archive() = default;

  // Adds a section, or replaces the one with that name (order of first insertion is kept).
  void set(std::string name, std::vector<std::byte> data) {
    if (name.empty() || name.size() > max_name_length)
      throw ConfigError("Archive::set: a section name must have 1 to 255 bytes, got " + std::to_string(name.size()));
    for (auto& s : sections_)
      if (s.name == name) {
        s.data = std::move(data);
        return;
      }
    sections_.push_back({std::move(name), std::move(data)});
  }

  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

  // The section's bytes; FileError naming the archive's source if it is missing.
  std::span<const std::byte> get(std::string_view name) const {
    if (const Section* s = find(name)) return s->data;
    std::string names;
    for (const auto& s : sections_) names += (names.empty() ? "" : ", ") + s.name;
    throw FileError(source_, "a section named \"" + std::string(name) + "\"",
                    sections_.empty() ? std::string("no sections") : "sections " + names);
  }
  // A checked reader over a section; its messages name "<source>[<section>]".
  BinaryReader reader(std::string_view name) const {
    return BinaryReader(get(name), source_ + "[" + std::string(name) + "]");
  }

  const std::vector<Section>& sections() const noexcept { return sections_; }
  // The file this archive was loaded from ("<memory>" otherwise).
  const std::string& source() const noexcept { return source_; }

  std::vector<std::byte> to_bytes() const {
    BinaryWriter w;
    w.raw(std::string_view(archive_magic.data(), archive_magic.size()));
    w.u32(archive_format_version);
    w.u64(sections_.size());
    for (const auto& s : sections_) {
      w.string(s.name);
      w.u64(s.data.size());
      w.raw(s.data);
    }
    w.u32(crc32(w.bytes()));
    return w.take();
  }

  static Archive from_bytes(std::span<const std::byte> data, std::string path,
                            std::uint64_t file_size = std::uint64_t(-1)) {
    if (file_size == std::uint64_t(-1)) file_size = data.size();
    BinaryReader r(data, path);
    detail::check_magic(r, archive_magic, "a ctnn archive");
    detail::check_version(r, archive_format_version);
    // A section takes at least 8 (name length) + 1 (name) + 8 (payload length) bytes.
    const std::uint64_t n = r.count("section", 17);
    Archive a;
    a.source_ = std::move(path);
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::string what = "section " + std::to_string(i);
      const std::size_t at = r.position();
      std::string name = r.string(what + " name", max_name_length);
      if (name.empty()) r.fail_at(at, "a non-empty " + what + " name", "an empty name");
      if (a.contains(name)) r.fail_at(at, "unique section names", "\"" + name + "\" twice");
      const std::uint64_t size = r.u64("size of section \"" + name + "\"");
      const auto payload = r.take(size, "section \"" + name + "\"");  // checked before the copy
      a.sections_.push_back({std::move(name), std::vector<std::byte>(payload.begin(), payload.end())});
    }
    r.u32("checksum");
    if (file_size != r.position())
      r.fail_at(r.position(), "end of file after the checksum",
                std::to_string(file_size - r.position()) + " trailing bytes");
    detail::check_crc(r);
    return a;
  }

  // Atomic write (see AtomicFile).
  void save(const std::filesystem::path& path) const { write_file_atomically(path, to_bytes()); }

  // Reads at most max_bytes (the caller's bound on a valid file: a checkpoint knows its net's size).
  static Archive load(const std::filesystem::path& path, std::size_t max_bytes) {
    const FileBytes f = read_file(path, max_bytes);
    if (f.size > max_bytes)
      throw FileError(path.string(), "an archive of at most " + std::to_string(max_bytes) + " bytes",
                      std::to_string(f.size) + " bytes");
    return from_bytes(f.bytes, path.string(), f.size);
  }

 private:
  const Section* find(std::string_view name) const noexcept {
    for (const auto& s : sections_)
      if (s.name == name) return &s;
    return nullptr;
  }

  std::vector<Section> sections_;
  std::string source_ = "<memory>";
};

}  // namespace ctnn::io

namespace ctnn {

// Writes the net's parameters and buffers to `path` atomically (docs/file-format.md).
template <io::SerializableNet N>
void save(const N& net, const std::filesystem::path& path) {
  io::write_file_atomically(path, io::weights_to_bytes(net));
}

// Reads weights saved by save() for the same architecture. All-or-nothing: on any FileError the
// net keeps its values.
template <io::SerializableNet N>
void load(N& net, const std::filesystem::path& path) {
  const std::size_t expected = io::weights_file_size(net);
  const io::FileBytes f = io::read_file(path, expected + io::header_slack_bytes);
  io::weights_from_bytes(net, f.bytes, path.string(), f.size);
}

}  // namespace ctnn
