#pragma once
// Little-endian binary encoding: BinaryWriter appends to a byte vector, BinaryReader reads from a
// byte span and checks every read.
//
// BinaryReader contract
//   ensures: no read goes past the end of the span. A short read throws
//              ctnn::FileError(path, "N more bytes for <what> at byte P", "only M left").
//            Every length or count read from the data is checked against the bytes that remain
//            *before* anything is allocated, so a corrupt or hostile header claiming 10^12
//            elements costs nothing but an exception.
//   `path` is only used in messages; a reader over a section of a file can name it
//   "file.ckpt[section]".
//
// Encoding (all little-endian, no padding, no alignment):
//   u8/u32/u64            the integer's bytes, least significant first
//   f32/f64               IEEE-754 binary32/binary64 bit pattern, as u32/u64
//   string                u64 byte length, then the bytes (no terminator)
//   array of f32/f64      the elements one after another (the count is stored by the caller)
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/error.hpp"

namespace ctnn::io {

namespace detail {

template <class U>
constexpr U to_little(U v) noexcept {
  static_assert(std::is_unsigned_v<U>);
  if constexpr (std::endian::native == std::endian::little || sizeof(U) == 1) {
    return v;
  } else if constexpr (sizeof(U) == 2) {
    return __builtin_bswap16(v);
  } else if constexpr (sizeof(U) == 4) {
    return __builtin_bswap32(v);
  } else {
    return __builtin_bswap64(v);
  }
}

// The unsigned integer with the same width as the arithmetic type T.
template <std::size_t N> struct uint_of_size;
template <> struct uint_of_size<1> { using type = std::uint8_t; };
template <> struct uint_of_size<2> { using type = std::uint16_t; };
template <> struct uint_of_size<4> { using type = std::uint32_t; };
template <> struct uint_of_size<8> { using type = std::uint64_t; };
template <class T> using uint_for = typename uint_of_size<sizeof(T)>::type;

template <class T>
concept Scalar = (std::is_integral_v<T> && !std::is_same_v<T, bool>) ||
                 (std::is_floating_point_v<T> && std::numeric_limits<T>::is_iec559 &&
                  (sizeof(T) == 4 || sizeof(T) == 8));

}  // namespace detail

class BinaryWriter {
 public:
  BinaryWriter() = default;

  // Any integer or IEEE float, little-endian.
  template <detail::Scalar T>
  void put(T value) {
    using U = detail::uint_for<T>;
    const U le = detail::to_little(std::bit_cast<U>(value));
    const auto* p = reinterpret_cast<const std::byte*>(&le);
    bytes_.insert(bytes_.end(), p, p + sizeof(U));
  }
  void u8(std::uint8_t v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void u64(std::uint64_t v) { put(v); }
  void f32(float v) { put(v); }
  void f64(double v) { put(v); }

  // u64 length + bytes.
  void string(std::string_view s) {
    u64(s.size());
    raw(std::as_bytes(std::span(s.data(), s.size())));
  }
  // Bytes as they are (no length prefix).
  void raw(std::span<const std::byte> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  void raw(std::string_view s) { raw(std::as_bytes(std::span(s.data(), s.size()))); }

  // Elements one after another (no count prefix).
  template <detail::Scalar T>
  void values(std::span<const T> v) {
    if constexpr (std::endian::native == std::endian::little) {
      raw(std::as_bytes(v));
    } else {
      for (const T x : v) put(x);
    }
  }

  void reserve(std::size_t n) { bytes_.reserve(n); }
  std::size_t size() const noexcept { return bytes_.size(); }
  const std::vector<std::byte>& bytes() const noexcept { return bytes_; }
  std::vector<std::byte>& bytes() noexcept { return bytes_; }
  std::vector<std::byte> take() noexcept { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

class BinaryReader {
 public:
  BinaryReader(std::span<const std::byte> data, std::string path)
      : data_(data), path_(std::move(path)) {}

  template <detail::Scalar T>
  T get(std::string_view what) {
    using U = detail::uint_for<T>;
    U le;
    std::memcpy(&le, take(sizeof(U), what).data(), sizeof(U));
    return std::bit_cast<T>(detail::to_little(le));
  }
  std::uint8_t u8(std::string_view what) { return get<std::uint8_t>(what); }
  std::uint32_t u32(std::string_view what) { return get<std::uint32_t>(what); }
  std::uint64_t u64(std::string_view what) { return get<std::uint64_t>(what); }
  float f32(std::string_view what) { return get<float>(what); }
  double f64(std::string_view what) { return get<double>(what); }

  // u64 length + bytes; the length is checked against max_length and the remaining bytes first.
  std::string string(std::string_view what, std::uint64_t max_length = std::numeric_limits<std::uint64_t>::max()) {
    const std::size_t at = pos_;
    const std::uint64_t n = u64(std::string(what) + " length");
    if (n > max_length)
      fail_at(at, "a " + std::string(what) + " of at most " + std::to_string(max_length) + " bytes",
              "a length of " + std::to_string(n));
    const auto b = take(n, what);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }

  // The next n bytes (a view into the data), checked.
  std::span<const std::byte> take(std::uint64_t n, std::string_view what) {
    if (n > remaining())
      fail_at(pos_, std::to_string(n) + " more bytes for " + std::string(what),
              "only " + std::to_string(remaining()) + " left");
    const auto out = data_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  // Fills `out` with out.size() elements; checked before anything is copied.
  template <detail::Scalar T>
  void values(std::span<T> out, std::string_view what) {
    if (out.size() > remaining() / sizeof(T))  // (no overflow: divide, don't multiply)
      fail_at(pos_, std::to_string(out.size()) + " x " + std::to_string(sizeof(T)) + " more bytes for " + std::string(what),
              "only " + std::to_string(remaining()) + " left");
    const auto b = take(out.size() * sizeof(T), what);
    if constexpr (std::endian::native == std::endian::little) {
      if (!b.empty()) std::memcpy(out.data(), b.data(), b.size());
    } else {
      BinaryReader sub(b, path_);
      for (auto& x : out) x = sub.get<T>(what);
    }
  }

  // Reads a count, checks it against `max_count` and against the bytes that remain given that
  // every element takes at least `min_element_bytes`; only then may the caller allocate.
  std::uint64_t count(std::string_view what, std::size_t min_element_bytes,
                      std::uint64_t max_count = std::numeric_limits<std::uint64_t>::max()) {
    const std::size_t at = pos_;
    const std::uint64_t n = u64(std::string(what) + " count");
    if (n > max_count)
      fail_at(at, "at most " + std::to_string(max_count) + " " + std::string(what), std::to_string(n));
    if (min_element_bytes > 0 && n > remaining() / min_element_bytes)
      fail_at(at, std::to_string(n) + " " + std::string(what) + " (at least " +
                      std::to_string(min_element_bytes) + " bytes each)",
              "only " + std::to_string(remaining()) + " bytes left");
    return n;
  }

  // Throws unless every byte was read.
  void expect_end(std::string_view what = "end of data") const {
    if (remaining() != 0)
      fail_at(pos_, std::string(what), std::to_string(remaining()) + " trailing bytes");
  }

  std::size_t position() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::size_t size() const noexcept { return data_.size(); }
  std::span<const std::byte> data() const noexcept { return data_; }
  const std::string& path() const noexcept { return path_; }

  // FileError(path, expected, found) for the caller's own checks.
  [[noreturn]] void fail(std::string expected, std::string found) const {
    throw FileError(path_, std::move(expected), std::move(found));
  }
  // The same, naming the byte offset where the offending field starts.
  [[noreturn]] void fail_at(std::size_t offset, std::string expected, std::string found) const {
    throw FileError(path_, std::move(expected) + " at byte " + std::to_string(offset), std::move(found));
  }

 private:
  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
  std::string path_;
};

}  // namespace ctnn::io
