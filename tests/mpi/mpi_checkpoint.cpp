// A checkpoint is rank-independent: written by rank 0 of a 2-rank run it resumes on 1 process,
// and written by 1 process it resumes on all ranks; both end where an uninterrupted 1-process
// run ends (within the data-parallel tolerance of mpi_data_parallel.cpp: the order of float
// additions differs) and every rank of a resumed run holds bit-identical weights. Only rank 0
// writes the file.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <ctnn/ctnn.hpp>
#include <ctnn/train/checkpoint.hpp>
#include <ctnn/train/trainer.hpp>

#include "mpi_test.hpp"

using namespace ctnn;

namespace {
using Model = Net<Input<1, 8, 8>, Conv<4, 3>, Relu, MaxPool<2>, Flatten, Dense<16>, Relu, Dense<3>>;
using Train = Trainer<Model, SoftmaxCrossEntropy, Adam<>, Warmup<1, CosineDecay<>>>;
constexpr double weight_tolerance = 1e-5;  // relative to the largest weight, as in mpi_data_parallel

double relative_difference(std::span<const float> a, std::span<const float> b) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return diff / scale;
}
}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(argc, argv);
  return mpi.run([&] {
    MpiDistributed dist;
    mpi_test::Checks check{dist.rank()};
    const data::Dataset train = mpi_test::templates(520, 1), val = mpi_test::templates(200, 2);

    // A scratch directory named by rank 0.
    char dir_name[256] = {};
    if (dist.rank() == 0) {
      const auto dir = std::filesystem::temp_directory_path() / ("ctnn_mpi_checkpoint_" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir);
      std::snprintf(dir_name, sizeof dir_name, "%s", dir.c_str());
    }
    dist.check(MPI_Bcast(dir_name, sizeof dir_name, MPI_CHAR, 0, dist.comm()), "MPI_Bcast");
    const std::filesystem::path dir = dir_name;

    TrainConfig cfg;
    cfg.learning_rate = 3e-3;
    cfg.batch_size = 64;
    cfg.verbose = 0;
    cfg.max_epochs = 4;

    // The reference: 4 epochs on one process, uninterrupted.
    Model reference{7};
    Train{cfg}.fit(reference, train, val);

    // (a) 2 epochs on all ranks, checkpointing; resumed to 4 epochs on one process.
    {
      TrainConfig c = cfg;
      c.max_epochs = 2;
      c.checkpoint_every = 1;
      c.checkpoint_path = (dir / "ranks.ckpt").string();
      c.distributed = &dist;
      Model net{7};
      Train{c}.fit(net, train, val);
      dist.barrier();
      std::size_t files = 0;
      for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++files;
      check(files == 1, "one checkpoint file, written by rank 0 only (" + std::to_string(files) + " files)");
      if (dist.rank() == 0) {
        Model resumed{99};  // resume() overwrites every weight
        const History h = Train{cfg}.resume(resumed, train, val, c.checkpoint_path);
        const double d = relative_difference(resumed.parameters(), reference.parameters());
        std::printf("written on %d ranks, resumed on 1: %zu epochs, relative difference %.3g\n", dist.size(), h.size(), d);
        check(h.size() == 4, "the resumed history has all 4 epochs");
        check(d <= weight_tolerance, "resumed on 1 process matches the uninterrupted run (" + std::to_string(d) + ")");
      }
      dist.barrier();
    }

    // (b) 2 epochs on one process (rank 0), checkpointing; resumed to 4 epochs on all ranks.
    {
      const std::string path = (dir / "single.ckpt").string();
      if (dist.rank() == 0) {
        TrainConfig c = cfg;
        c.max_epochs = 2;
        c.checkpoint_every = 1;
        c.checkpoint_path = path;
        Model net{7};
        Train{c}.fit(net, train, val);
      }
      dist.barrier();
      TrainConfig c = cfg;
      c.distributed = &dist;
      Model resumed{99};
      const History h = Train{c}.resume(resumed, train, val, path);
      const double d = relative_difference(resumed.parameters(), reference.parameters());
      if (dist.rank() == 0)
        std::printf("written on 1 process, resumed on %d ranks: %zu epochs, relative difference %.3g\n", dist.size(),
                    h.size(), d);
      check(h.size() == 4, "the resumed history has all 4 epochs");
      check(d <= weight_tolerance, "resumed on all ranks matches the uninterrupted run (" + std::to_string(d) + ")");
      check(mpi_test::same_on_all_ranks<float>(dist, std::span<const float>(resumed.parameters())),
            "resumed weights bit-identical on every rank");
    }

    dist.barrier();
    if (dist.rank() == 0) std::filesystem::remove_all(dir);
    return mpi_test::finish(dist, check, "mpi_checkpoint");
  });
}
