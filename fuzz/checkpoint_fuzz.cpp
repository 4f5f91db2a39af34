// Fuzz harness for the checkpoint reader: io::Archive::from_bytes, the meta section
// (io::checkpoint_info_from_bytes) and ctnn::read_checkpoint, which parses and checks every
// section against a trainer type (what Trainer::resume does before it touches anything).
// See fuzz/README.md for how to run it.
//
// Every input is tried twice: as it is, and with its last 4 bytes replaced by the CRC-32 of the
// others, so that the fuzzer gets past the archive checksum and explores every section reader.
// Checked on every input: a reader throws ctnn::FileError, or it accepts and what it returns is
// consistent (sizes from the trainer's types, a permutation for the data order, one history
// record per epoch).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/io/checkpoint_format.hpp"
#include "ctnn/train/checkpoint.hpp"
#include "ctnn/train/trainer.hpp"
#include "fuzz_main.hpp"

namespace {

using Model = ctnn::Net<ctnn::Input<1, 2, 2>, ctnn::Flatten, ctnn::Dense<3>, ctnn::Relu, ctnn::Dropout<0.5>,
                        ctnn::Dense<2>>;
using Train = ctnn::Trainer<Model, ctnn::SoftmaxCrossEntropy, ctnn::Adam<>,
                            ctnn::Warmup<1, ctnn::ReduceOnPlateau<0.5, 0>>, ctnn::L2<1e-3>,
                            ctnn::AnyOf<ctnn::EarlyStopping<3>, ctnn::StopOnNaN>>;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "checkpoint_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void try_parse(std::span<const std::byte> bytes) {
  static const Model net(1);
  ctnn_fuzz::guarded([&] { ctnn::io::checkpoint_info_from_bytes(bytes, "fuzz.ckpt"); });
  ctnn_fuzz::guarded([&] {
    const auto c = ctnn::read_checkpoint<Train>(bytes, "fuzz.ckpt", net);
    require(c.net.parameters.size() == Model::parameter_count, "parameter count from the type");
    require(c.optimizer_buffers.size() == 2, "Adam keeps two buffers");
    for (const auto& b : c.optimizer_buffers) require(b.size() == Model::parameter_count, "buffer sizes");
    require(c.order.size() == c.info.train_size && c.position <= c.order.size(), "order and position");
    std::vector<std::size_t> sorted = c.order;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) require(sorted[i] == i, "the order is a permutation");
    require(c.state.history.size() == c.state.next_epoch, "one history record per epoch");
    require(!c.state.has_best || c.state.best_epoch < c.state.next_epoch, "best epoch before the next");
    require(c.state.best_parameters.size() == (c.state.has_best ? Model::parameter_count : 0), "best weights");
  });
}

ctnn::data::Dataset tiny_data(std::size_t n) {
  ctnn::data::Dataset::Images images(ctnn::data::Dataset::Images::shape_type{n, 1, 2, 2});
  std::vector<std::int32_t> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    labels[i] = static_cast<std::int32_t>(i % 2);
    for (std::size_t p = 0; p < 4; ++p) images.data()[i * 4 + p] = float((i * 7 + p * 3) % 5) / 5.0f + (i % 2 ? 0.5f : 0.0f);
  }
  return ctnn::data::Dataset(std::move(images), std::move(labels), 2);
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
  std::filesystem::create_directories(dir);
  const auto train = tiny_data(6), val = tiny_data(4);
  ctnn::TrainConfig cfg;
  cfg.learning_rate = 0.05;
  cfg.batch_size = 4;
  cfg.max_epochs = 2;
  cfg.verbose = 0;
  cfg.checkpoint_every = 1;
  cfg.checkpoint_path = (dir / "valid_after_2_epochs.ckpt").string();
  Model net(3);
  Train(cfg).fit(net, train, val);
  const std::vector<std::uint8_t> valid = ctnn_fuzz::read_whole(cfg.checkpoint_path);

  auto v = valid;
  v.resize(v.size() * 2 / 3);
  write_seed(dir, "broken_truncated.ckpt", v);
  v = valid;
  v[v.size() / 2] ^= 0x08;
  write_seed(dir, "broken_bitflip.ckpt", v);
  v = valid;
  v[3] = 'N';  // "CTNN": a weights file's magic
  write_seed(dir, "broken_magic.ckpt", v);
  v = valid;
  const std::uint64_t huge = 1000000000000ULL;
  std::memcpy(v.data() + 8, &huge, 8);  // section count
  write_seed(dir, "broken_claims_1e12_sections.ckpt", v);
  write_seed(dir, "broken_weights_file.ckpt", ctnn::io::weights_to_bytes(net));
  // A checkpoint of another trainer (Sgd with momentum): refused by name.
  using Other = ctnn::Trainer<Model, ctnn::SoftmaxCrossEntropy, ctnn::Sgd<0.9>>;
  cfg.checkpoint_path = (dir / "broken_other_trainer.ckpt").string();
  cfg.max_epochs = 1;
  Model other(4);
  Other(cfg).fit(other, train, val);
}
