// io/binary.hpp and io/serialize.hpp: checked binary reader, weights files, archives.
#include <stdlib.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "ctnn/io/serialize.hpp"
#include "ctnn/random.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

// A stand-in with the Net API of docs/design.md. Variant 1 and 2 differ in architecture.
template <class T, int Variant = 1>
struct FakeNet {
  static constexpr std::size_t parameter_count = 6;
  std::array<T, parameter_count> params{}, grads{};
  std::array<T, 3> bufs{};
  ctnn::Rng rng_{7};

  std::span<T> parameters() { return params; }
  std::span<const T> parameters() const { return params; }
  std::span<T> gradients() { return grads; }
  std::span<T> buffers() { return bufs; }
  std::span<const T> buffers() const { return bufs; }
  ctnn::Rng& rng() { return rng_; }
  static std::string signature() {
    return Variant == 1 ? "Input<1, 28, 28>|Flatten->Shape<784>|Dense<2>->Shape<2>"
                        : "Input<1, 32, 32>|Flatten->Shape<1024>|Dense<2>->Shape<2>";
  }

  void fill(T base) {
    for (std::size_t i = 0; i < params.size(); ++i) params[i] = base * static_cast<T>(i + 1) - T(3.25);
    for (std::size_t i = 0; i < bufs.size(); ++i) bufs[i] = base / static_cast<T>(i + 2);
  }
  bool same_values(const FakeNet& o) const {
    return std::memcmp(params.data(), o.params.data(), sizeof params) == 0 &&
           std::memcmp(bufs.data(), o.bufs.data(), sizeof bufs) == 0;
  }
};

using Net = FakeNet<float, 1>;
static_assert(ctnn::io::SerializableNet<Net>);
static_assert(ctnn::io::SerializableNet<FakeNet<double>>);
static_assert(!ctnn::io::SerializableNet<int>);
static_assert(std::is_same_v<ctnn::io::net_scalar_t<FakeNet<double>>, double>);

std::vector<std::byte> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}
void write_raw(const fs::path& p, std::span<const std::byte> bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()),
                                                            static_cast<std::streamsize>(bytes.size()));
}
void put_u64(std::vector<std::byte>& b, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[at + i] = static_cast<std::byte>(v >> (8 * i));
}
void put_u32(std::vector<std::byte>& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::byte>(v >> (8 * i));
}
// Recomputes the trailing CRC-32 so that a test reaches the field it patched.
void fix_crc(std::vector<std::byte>& b) {
  put_u32(b, b.size() - 4, ctnn::io::crc32(std::span(b).first(b.size() - 4)));
}

// Loads `bytes` (as a file) into a net filled with 42s; requires a FileError and an unchanged net.
std::string load_must_fail(const fs::path& dir, std::span<const std::byte> bytes) {
  const auto p = dir / "bad.ctnn";
  write_raw(p, bytes);
  Net net;
  net.fill(42);
  const Net before = net;
  std::string message;
  try {
    ctnn::load(net, p);
  } catch (const ctnn::FileError& e) {
    message = e.what();
    CHECK(e.path() == p.string());
  }
  CHECK(net.same_values(before));
  return message;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// binary.hpp

TEST_CASE("BinaryWriter writes little-endian, BinaryReader reads it back", "[io][binary]") {
  ctnn::io::BinaryWriter w;
  w.u8(0xAB);
  w.u32(0x01020304u);
  w.u64(0x1122334455667788ull);
  w.f32(-1.5f);
  w.f64(3.141592653589793);
  w.string("hello");
  const std::array<float, 3> fs{1.f, -2.f, 0.25f};
  w.values(std::span<const float>(fs));
  w.put<std::int16_t>(-2);

  const auto& b = w.bytes();
  REQUIRE(b.size() == 1 + 4 + 8 + 4 + 8 + 8 + 5 + 12 + 2);
  CHECK(b[1] == std::byte{0x04});
  CHECK(b[4] == std::byte{0x01});
  CHECK(b[5] == std::byte{0x88});
  CHECK(b[13] == std::byte{0x00});  // -1.5f = 0xBFC00000, little-endian
  CHECK(b[16] == std::byte{0xBF});

  ctnn::io::BinaryReader r(b, "mem");
  CHECK(r.u8("a") == 0xAB);
  CHECK(r.u32("b") == 0x01020304u);
  CHECK(r.u64("c") == 0x1122334455667788ull);
  CHECK(r.f32("d") == -1.5f);
  CHECK(r.f64("e") == 3.141592653589793);
  CHECK(r.string("f") == "hello");
  std::array<float, 3> back{};
  r.values(std::span<float>(back), "g");
  CHECK(back == fs);
  CHECK(r.get<std::int16_t>("h") == -2);
  CHECK(r.remaining() == 0);
  CHECK_NOTHROW(r.expect_end());
}

TEST_CASE("BinaryReader never reads past the end and says what was missing", "[io][binary]") {
  const std::array<std::byte, 3> three{};
  ctnn::io::BinaryReader r(three, "model.ctnn");
  try {
    r.u64("parameter count");
    FAIL("no exception");
  } catch (const ctnn::FileError& e) {
    CHECK(std::string(e.what()) == "model.ctnn: expected 8 more bytes for parameter count at byte 0, found only 3 left");
    CHECK(e.path() == "model.ctnn");
  }
  CHECK(r.position() == 0);
  CHECK(r.u8("x") == 0);
  CHECK_THROWS_WITH(r.expect_end("end of data"), Catch::Contains("2 trailing bytes"));
}

TEST_CASE("lengths and counts from the data are checked before allocating", "[io][binary]") {
  ctnn::io::BinaryWriter w;
  w.u64(1'000'000'000'000ull);  // a string / count of 10^12
  w.u32(7);
  {
    ctnn::io::BinaryReader r(w.bytes(), "f");
    CHECK_THROWS_WITH(r.string("name"), Catch::Contains("1000000000000 more bytes for name") &&
                                            Catch::Contains("only 4 left"));
  }
  {
    ctnn::io::BinaryReader r(w.bytes(), "f");
    CHECK_THROWS_WITH(r.count("record", 8), Catch::Contains("1000000000000 record") && Catch::Contains("only 4 bytes left"));
  }
  {
    ctnn::io::BinaryReader r(w.bytes(), "f");
    CHECK_THROWS_WITH(r.count("record", 0, 1000), Catch::Contains("at most 1000 record"));
  }
  {
    ctnn::io::BinaryReader r(w.bytes(), "f");
    CHECK_THROWS_WITH(r.string("name", 16), Catch::Contains("at most 16 bytes"));
  }
  {  // element count x width would overflow: still a clean error
    std::vector<float> out(3);
    ctnn::io::BinaryReader r(std::span(w.bytes()).first(11), "f");
    CHECK_THROWS_WITH(r.values(std::span<float>(out), "values"), Catch::Contains("only 11 left"));
  }
}

TEST_CASE("hash functions match their reference values", "[io][hash]") {
  STATIC_REQUIRE(ctnn::io::fnv1a64("") == 0xcbf29ce484222325ull);
  STATIC_REQUIRE(ctnn::io::fnv1a64("a") == 0xaf63dc4c8601ec8cull);
  STATIC_REQUIRE(ctnn::io::fnv1a64("foobar") == 0x85944171f73967e8ull);
  const std::string s = "123456789";
  CHECK(ctnn::io::crc32(std::as_bytes(std::span(s.data(), s.size()))) == 0xCBF43926u);
}

// ---------------------------------------------------------------------------------------------
// save / load

TEST_CASE("save then load restores parameters and buffers exactly", "[io][serialize]") {
  TempDir dir;
  const auto p = dir.path / "model.ctnn";

  Net a;
  a.fill(1.0f / 3.0f);
  a.params[5] = std::numeric_limits<float>::denorm_min();
  ctnn::save(a, p);
  CHECK(fs::file_size(p) == ctnn::io::weights_file_size(a));
  CHECK(fs::file_size(p) == 4 + 4 + 8 + Net::signature().size() + 8 + 8 + 8 + 4 + 4 * (6 + 3) + 4);

  Net b;
  b.fill(9);
  ctnn::load(b, p);
  CHECK(b.same_values(a));

  const auto bytes = read_all(p);
  CHECK(std::string(reinterpret_cast<const char*>(bytes.data()), 4) == "CTNN");
  CHECK(bytes[4] == std::byte{1});

  FakeNet<double> d1, d2;
  d1.fill(0.1);
  ctnn::save(d1, dir.path / "double.ctnn");
  ctnn::load(d2, dir.path / "double.ctnn");
  CHECK(d2.same_values(d1));

  // Overwriting is atomic and leaves no temporary files.
  a.fill(2);
  ctnn::save(a, p);
  ctnn::load(b, p);
  CHECK(b.same_values(a));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
  CHECK(files == 2);
}

TEST_CASE("load rejects another architecture and names both", "[io][serialize]") {
  TempDir dir;
  FakeNet<float, 2> other;
  other.fill(1);
  const auto p = dir.path / "other.ctnn";
  ctnn::save(other, p);
  const std::string msg = load_must_fail(dir.path, read_all(p));
  CHECK(msg == dir.path.string() + "/bad.ctnn: expected architecture " + Net::signature() + ", found " +
                   FakeNet<float, 2>::signature());
}

TEST_CASE("load rejects other scalar widths, versions, magic, missing files", "[io][serialize]") {
  TempDir dir;
  Net net;
  net.fill(1);
  const auto good = ctnn::io::weights_to_bytes(net);

  SECTION("double file into a float net") {
    FakeNet<double> d;
    const std::string msg = load_must_fail(dir.path, ctnn::io::weights_to_bytes(d));
    CHECK_THAT(msg, Catch::Contains("expected 4-byte scalars (float)") && Catch::Contains("found 8-byte scalars"));
  }
  SECTION("newer format version") {
    auto b = good;
    put_u32(b, 4, 2);
    fix_crc(b);
    CHECK_THAT(load_must_fail(dir.path, b), Catch::Contains("expected format version 1") &&
                                                Catch::Contains("version 2 (written by a newer ctnn)"));
  }
  SECTION("wrong magic") {
    const std::string text = "GIF89a: not a weights file at all";
    const auto b = std::as_bytes(std::span(text.data(), text.size()));
    CHECK_THAT(load_must_fail(dir.path, b), Catch::Contains("magic \"GIF8\" (0x47 0x49 0x46 0x38)") && Catch::Contains("not a ctnn file"));
  }
  SECTION("an archive is not a weights file") {
    ctnn::io::Archive a;
    a.set("net", std::vector<std::byte>(3));
    CHECK_THAT(load_must_fail(dir.path, a.to_bytes()), Catch::Contains("a ctnn archive (checkpoint)"));
  }
  SECTION("empty file") {
    CHECK_THAT(load_must_fail(dir.path, {}), Catch::Contains("found an empty file"));
  }
  SECTION("missing file, directory") {
    Net n;
    n.fill(3);
    const Net before = n;
    CHECK_THROWS_WITH(ctnn::load(n, dir.path / "nope.ctnn"), Catch::Contains("No such file or directory"));
    CHECK_THROWS_WITH(ctnn::load(n, dir.path), Catch::Contains("found a directory"));
    CHECK(n.same_values(before));
  }
  SECTION("save into a missing directory") {
    CHECK_THROWS_AS(ctnn::save(net, dir.path / "no" / "such" / "m.ctnn"), ctnn::FileError);
  }
}

TEST_CASE("load rejects a file truncated at every length", "[io][serialize]") {
  TempDir dir;
  Net net;
  net.fill(0.5f);
  const auto good = ctnn::io::weights_to_bytes(net);
  for (std::size_t len = 0; len < good.size(); ++len) {
    INFO("truncated to " << len << " of " << good.size() << " bytes");
    const std::string msg = load_must_fail(dir.path, std::span(good).first(len));
    CHECK(!msg.empty());
    if (len >= 4) CHECK_THAT(msg, Catch::Contains("more bytes for") && Catch::Contains("left"));
  }
}

TEST_CASE("load rejects a file with any single bit flipped", "[io][serialize]") {
  TempDir dir;
  Net net;
  net.fill(0.5f);
  const auto good = ctnn::io::weights_to_bytes(net);

  // Through files: one bit per byte (the bit index cycles).
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto b = good;
    b[i] ^= std::byte(1u << (i % 8));
    INFO("byte " << i);
    const std::string msg = load_must_fail(dir.path, b);
    if (i < 4) CHECK_THAT(msg, Catch::Contains("not a ctnn file"));
    else CHECK_THAT(msg, Catch::Contains("checksum mismatch"));
  }
  // In memory: every bit of every byte.
  for (std::size_t i = 0; i < good.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      auto b = good;
      b[i] ^= std::byte(1u << bit);
      Net n;
      n.fill(42);
      const Net before = n;
      INFO("byte " << i << " bit " << bit);
      CHECK_THROWS_AS(ctnn::io::weights_from_bytes(n, b, "mem"), ctnn::FileError);
      CHECK(n.same_values(before));
    }
}

TEST_CASE("load rejects trailing bytes, however many", "[io][serialize]") {
  TempDir dir;
  Net net;
  const auto good = ctnn::io::weights_to_bytes(net);
  for (const std::size_t extra : {std::size_t(1), std::size_t(7), std::size_t(1) << 20}) {
    auto b = good;
    b.resize(b.size() + extra, std::byte{0x5A});
    INFO(extra << " extra bytes");
    CHECK_THAT(load_must_fail(dir.path, b), Catch::Contains(std::to_string(extra) + " trailing bytes"));
  }
}

TEST_CASE("a header claiming 10^12 parameters is rejected without allocating", "[io][serialize]") {
  TempDir dir;
  Net net;
  const auto good = ctnn::io::weights_to_bytes(net);
  const std::size_t count_at = 8 + 8 + Net::signature().size() + 8;

  auto b = good;
  put_u64(b, count_at, 1'000'000'000'000ull);
  CHECK_THAT(load_must_fail(dir.path, b), Catch::Contains("checksum mismatch"));
  fix_crc(b);
  CHECK_THAT(load_must_fail(dir.path, b),
             Catch::Contains("expected 6 parameters at byte " + std::to_string(count_at)) &&
                 Catch::Contains("found 1000000000000"));

  auto c = good;  // huge buffer count, file also truncated
  put_u64(c, count_at + 8, 1'000'000'000'000ull);
  c.resize(count_at + 20);
  CHECK_THAT(load_must_fail(dir.path, c), Catch::Contains("expected 3 buffer values") &&
                                             Catch::Contains("found 1000000000000"));

  auto s = good;  // signature length of 10^12
  put_u64(s, 8, 1'000'000'000'000ull);
  fix_crc(s);
  CHECK_THAT(load_must_fail(dir.path, s), Catch::Contains("1000000000000 more bytes for architecture signature"));
}

// ---------------------------------------------------------------------------------------------
// Archive

TEST_CASE("Archive round trip with named sections", "[io][archive]") {
  TempDir dir;
  const auto p = dir.path / "run.ckpt";

  Net net;
  net.fill(1.25f);
  ctnn::io::Archive a;
  ctnn::io::BinaryWriter nw;
  ctnn::io::write_net_record(nw, net);
  CHECK(nw.size() == ctnn::io::net_record_size(net));
  a.set("net", nw.take());
  ctnn::io::BinaryWriter rw;
  for (const auto word : net.rng().state()) rw.u64(word);
  a.set("rng", rw.take());
  a.set("empty", {});
  a.set("rng", std::vector<std::byte>(32, std::byte{1}));  // replaces, keeps the order
  a.save(p);

  const auto b = ctnn::io::Archive::load(p, 1 << 20);
  REQUIRE(b.sections().size() == 3);
  CHECK(b.sections()[0].name == "net");
  CHECK(b.sections()[1].name == "rng");
  CHECK(b.get("rng").size() == 32);
  CHECK(b.get("empty").empty());
  CHECK(b.source() == p.string());

  Net restored;
  auto r = b.reader("net");
  auto values = ctnn::io::read_net_record(r, restored);
  r.expect_end();
  ctnn::io::assign(restored, values);
  CHECK(restored.same_values(net));

  CHECK_THROWS_WITH(b.get("optimizer"), Catch::Contains("expected a section named \"optimizer\"") &&
                                            Catch::Contains("found sections net, rng, empty"));
  auto short_reader = b.reader("empty");
  CHECK_THROWS_WITH(short_reader.u64("step"), Catch::StartsWith(p.string() + "[empty]: expected 8 more bytes for step"));

  CHECK_THROWS_WITH(ctnn::io::Archive::load(p, 10), Catch::Contains("at most 10 bytes"));
  CHECK_THROWS_AS(a.set("", {}), ctnn::ConfigError);
  CHECK_THROWS_AS(a.set(std::string(256, 'n'), {}), ctnn::ConfigError);
  CHECK_THROWS_WITH(ctnn::io::Archive::from_bytes(ctnn::io::weights_to_bytes(net), "w.ctnn"),
                    Catch::Contains("a ctnn weights file; load it with ctnn::load"));
}

TEST_CASE("Archive rejects truncation, bit flips, trailing bytes, duplicate names", "[io][archive]") {
  ctnn::io::Archive a;
  a.set("net", std::vector<std::byte>(20, std::byte{3}));
  a.set("history", std::vector<std::byte>(5, std::byte{4}));
  const auto good = a.to_bytes();

  for (std::size_t len = 0; len < good.size(); ++len)
    CHECK_THROWS_AS(ctnn::io::Archive::from_bytes(std::span(good).first(len), "a"), ctnn::FileError);
  for (std::size_t i = 0; i < good.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      auto b = good;
      b[i] ^= std::byte(1u << bit);
      INFO("byte " << i << " bit " << bit);
      CHECK_THROWS_AS(ctnn::io::Archive::from_bytes(b, "a"), ctnn::FileError);
    }
  auto t = good;
  t.push_back(std::byte{0});
  CHECK_THROWS_WITH(ctnn::io::Archive::from_bytes(t, "a"), Catch::Contains("1 trailing bytes"));

  ctnn::io::BinaryWriter w;  // two sections named "x", valid checksum
  w.raw(std::string_view("CTNA"));
  w.u32(1);
  w.u64(2);
  for (int i = 0; i < 2; ++i) {
    w.string("x");
    w.u64(0);
  }
  w.u32(ctnn::io::crc32(w.bytes()));
  CHECK_THROWS_WITH(ctnn::io::Archive::from_bytes(w.bytes(), "a"), Catch::Contains("\"x\" twice"));

  ctnn::io::BinaryWriter h;  // 10^12 sections
  h.raw(std::string_view("CTNA"));
  h.u32(1);
  h.u64(1'000'000'000'000ull);
  h.u32(0);
  CHECK_THROWS_WITH(ctnn::io::Archive::from_bytes(h.bytes(), "a"), Catch::Contains("1000000000000 section"));
}
