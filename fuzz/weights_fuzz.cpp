// Fuzz harness for the weights-file reader, ctnn::io::weights_from_bytes (what ctnn::load runs on
// the bytes of a file), for a small net with parameters and buffers (BatchNorm).
// See fuzz/README.md for how to run it.
//
// Every input is tried twice: as it is, and with its last 4 bytes replaced by the CRC-32 of the
// others. Random mutations almost never keep the checksum right, so without the second try the
// fuzzer would only ever reach the checksum test; with it, every header check behind it is
// explored too.
// Checked on every input: the reader throws ctnn::FileError and leaves the net untouched, or it
// accepts, and then saving the net gives back exactly the input (nothing accepted is ambiguous).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "ctnn/io/serialize.hpp"
#include "fuzz_main.hpp"

namespace {

// The reader is generic over the Net API (io::SerializableNet); this stand-in has the
// signature, parameter count and buffer count of
//   Net<Input<1, 4, 4>, Conv<2, 3>, BatchNorm, Relu, Flatten, Dense<3>>
// without the layer headers, so the harness also compiles with clang 14 (whose lack of double
// template arguments rules out the layers), and so with afl-clang-fast's persistent mode.
template <int Variant = 1>
struct Model {
  static constexpr std::size_t parameter_count = Variant == 1 ? 20 + 4 + 27 : 51;
  std::vector<float> params = std::vector<float>(parameter_count), bufs = std::vector<float>(Variant == 1 ? 4 : 0);
  std::span<float> parameters() { return params; }
  std::span<const float> parameters() const { return params; }
  std::span<float> buffers() { return bufs; }
  std::span<const float> buffers() const { return bufs; }
  static std::string signature() {
    return Variant == 1 ? "Input<1, 4, 4>|Conv<2, 3, 1, 0>->Shape<2, 2, 2>|BatchNorm->Shape<2, 2, 2>|Relu->Shape<2, 2, "
                          "2>|Flatten->Shape<8>|Dense<3>->Shape<3>"
                        : "Input<1, 4, 4>|Flatten->Shape<16>|Dense<3>->Shape<3>";
  }
  explicit Model(unsigned seed = 1) {
    for (std::size_t i = 0; i < params.size(); ++i) params[i] = float((i * 37 + seed * 11) % 101) / 50.0f - 1.0f;
    for (std::size_t i = 0; i < bufs.size(); ++i) bufs[i] = 0.5f + float(i);
  }
};
static_assert(ctnn::io::SerializableNet<Model<>>);

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "weights_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void try_parse(std::span<const std::byte> bytes) {
  static Model<> net(1);
  static const std::vector<float> original_params(net.parameters().begin(), net.parameters().end());
  static const std::vector<float> original_buffers(net.buffers().begin(), net.buffers().end());
  ctnn_fuzz::guarded([&] {
    try {
      ctnn::io::weights_from_bytes(net, bytes, "fuzz.ctnn");
    } catch (const ctnn::FileError&) {
      require(std::equal(original_params.begin(), original_params.end(), net.parameters().begin()) &&
                  std::equal(original_buffers.begin(), original_buffers.end(), net.buffers().begin()),
              "a rejected file leaves the net untouched");
      throw;
    }
    const std::vector<std::byte> again = ctnn::io::weights_to_bytes(net);
    require(again.size() == bytes.size() && std::memcmp(again.data(), bytes.data(), bytes.size()) == 0,
            "an accepted file is exactly what save() writes for the values read");
    // Put the original values back for the next input.
    std::copy(original_params.begin(), original_params.end(), net.parameters().begin());
    std::copy(original_buffers.begin(), original_buffers.end(), net.buffers().begin());
  });
}

}  // namespace

void fuzz_one(std::span<const std::uint8_t> input) {
  const auto bytes = std::as_bytes(input);
  try_parse(bytes);
  if (input.size() >= 8) {
    std::vector<std::byte> fixed(bytes.begin(), bytes.end());
    const std::uint32_t crc = ctnn::io::crc32(std::span(fixed).first(fixed.size() - 4));
    for (int i = 0; i < 4; ++i) fixed[fixed.size() - 4 + i] = std::byte(crc >> (8 * i));
    try_parse(fixed);
  }
}

void make_corpus(const std::filesystem::path& dir) {
  using ctnn_fuzz::write_seed;
  const Model<> net(7);
  const std::vector<std::byte> valid = ctnn::io::weights_to_bytes(net);
  write_seed(dir, "valid.ctnn", valid);
  auto v = valid;
  v.resize(v.size() / 2);
  write_seed(dir, "broken_truncated.ctnn", v);
  v = valid;
  v[v.size() / 2] ^= std::byte{0x10};
  write_seed(dir, "broken_bitflip.ctnn", v);
  v = valid;
  v[0] = std::byte{'X'};
  write_seed(dir, "broken_magic.ctnn", v);
  v = valid;
  v.push_back(std::byte{0});
  write_seed(dir, "broken_trailing.ctnn", v);
  // Another architecture.
  write_seed(dir, "broken_other_architecture.ctnn", ctnn::io::weights_to_bytes(Model<2>(3)));
  // A header claiming 10^12 parameters (then the checksum fixed up by the harness's second try).
  v = valid;
  const std::size_t sig = Model<>::signature().size();
  const std::uint64_t huge = 1000000000000ULL;
  std::memcpy(v.data() + 8 + 8 + sig + 8, &huge, 8);
  write_seed(dir, "broken_claims_1e12.ctnn", v);
  write_seed(dir, "broken_empty.ctnn", std::vector<std::uint8_t>{});
}
