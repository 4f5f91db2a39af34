// bench_mpi_scaling: data-parallel training throughput of the Fashion-MNIST CNN (Adam, global
// batch 64, real Fashion-MNIST) on however many ranks mpirun starts; bench/run_mpi_scaling runs
// it on 1 and 2 ranks and computes the scaling efficiency (docs/distributed.md).
//
//   mpirun -np 2 bench_mpi_scaling [--steps 300] [--warmup 20] [--batch 64] [--bucket-bytes 0]
//   mpirun -np 2 bench_mpi_scaling --allreduce-only   (lines `ALLREDUCE ...`: a gradient-sized
//                                                      allreduce, whole and in buckets)
//
// Rank 0 prints one line `RESULT key=value ...`:
//   ranks, steps, batch        what was measured (steps of the global batch)
//   seconds, images_per_s      wall time of the timed Trainer::fit, global throughput
//   step_ms                    wall time per step
//   allreduce_ms               time per step inside MPI_Allreduce during training (the gradients
//                              and the 2 metrics; includes waiting for the slower rank)
//   allreduce_alone_ms         one gradient allreduce on its own, after a barrier: the transfer
//   allreduce_min_ms           cost without load imbalance (median and minimum of 50)
//   forward_ms, backward_ms    one rank's forward(+loss) and backward on its shard, measured
//                              outside the Trainer: what a backward/allreduce overlap could hide
//   gradient_bytes             size of the gradient array
//   cpu_s                      CPU time of the timed fit summed over all ranks (includes MPI's
//                              busy-waiting): on a machine shared with other work, where wall
//                              time is not trustworthy, cpu_s(1 rank) / cpu_s(N ranks) is the
//                              efficiency in work terms
//   compute_cpu_ms             CPU time per step outside sum() (the computation), slowest rank
// With 1 rank the Trainer runs without a Distributed (distributed = nullptr), exactly as a
// program without MPI; allreduce figures are then 0.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/data/fashion_mnist.hpp>
#include <ctnn/train/mpi.hpp>
#include <ctnn/train/trainer.hpp>

#include "models.hpp"

using Model = examples::FashionMnistModel;
using Train = ctnn::Trainer<Model, ctnn::SoftmaxCrossEntropy, ctnn::Adam<>>;

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

struct Args {
  std::size_t steps = 300, warmup = 20, batch = 64, bucket_bytes = 0;
  bool allreduce_only = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const auto value = [&]() -> std::size_t {
      if (i + 1 >= argc) ctnn::MpiSession::abort(std::string(argv[i]) + " needs a value");
      return std::strtoull(argv[++i], nullptr, 10);
    };
    if (!std::strcmp(argv[i], "--steps")) a.steps = value();
    else if (!std::strcmp(argv[i], "--warmup")) a.warmup = value();
    else if (!std::strcmp(argv[i], "--batch")) a.batch = value();
    else if (!std::strcmp(argv[i], "--bucket-bytes")) a.bucket_bytes = value();
    else if (!std::strcmp(argv[i], "--allreduce-only")) a.allreduce_only = true;
    else ctnn::MpiSession::abort(std::string("unknown argument ") + argv[i] +
                                 " (--steps N --warmup N --batch N --bucket-bytes N --allreduce-only)");
  }
  if (a.steps == 0 || a.batch == 0) ctnn::MpiSession::abort("--steps and --batch must be at least 1");
  return a;
}

// One epoch over `data` (steps x batch samples) with the given distribution.
double train_seconds(Model& net, const ctnn::data::Dataset& data, std::size_t batch,
                     ctnn::Distributed* distributed, ctnn::MpiDistributed& dist) {
  ctnn::TrainConfig cfg;
  cfg.learning_rate = 1e-3;
  cfg.batch_size = batch;
  cfg.max_epochs = 1;
  cfg.verbose = 0;
  cfg.distributed = distributed;
  dist.barrier();
  const double start = MPI_Wtime();
  Train{cfg}.fit(net, data, ctnn::data::Dataset{});
  dist.barrier();  // the slowest rank decides
  return MPI_Wtime() - start;
}

// Forwards to MpiDistributed and adds up the CPU time spent inside sum() (moving data and
// busy-waiting for the other ranks), so that the CPU time of the computation can be told apart.
class CpuTimed final : public ctnn::Distributed {
 public:
  explicit CpuTimed(ctnn::MpiDistributed& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void sum(std::span<float> v) override { timed([&] { inner_.sum(v); }); }
  void sum(std::span<double> v) override { timed([&] { inner_.sum(v); }); }
  double cpu_seconds_inside = 0;

 private:
  template <class F>
  void timed(F&& f) {
    const double start = cpu_seconds();
    f();
    cpu_seconds_inside += cpu_seconds() - start;
  }
  ctnn::MpiDistributed& inner_;
};

struct AllreduceTimes {
  double min_ms = 0, median_ms = 0;
};

// `reps` allreduces of `n` floats, each after a barrier; rank 0's minimum and median. On a busy
// machine the minimum is the cost when no rank was descheduled.
AllreduceTimes time_allreduce(ctnn::MpiDistributed& dist, std::size_t n, int reps) {
  std::vector<float> values(n, 1.0f);
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    dist.barrier();
    const double t = MPI_Wtime();
    dist.sum(std::span<float>(values));
    ms.push_back((MPI_Wtime() - t) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  return {ms.front(), ms[ms.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  ctnn::MpiSession mpi(argc, argv);
  return mpi.run([&] {
    const Args args = parse(argc, argv);
    ctnn::MpiDistributed dist(MPI_COMM_WORLD, {.bucket_bytes = args.bucket_bytes});
    const int ranks = dist.size();
    CpuTimed timed_dist(dist);
    ctnn::Distributed* distributed = ranks > 1 ? &timed_dist : nullptr;

    // --allreduce-only: the gradient-sized allreduce alone, whole and in buckets.
    if (args.allreduce_only) {
      for (std::size_t bucket : {std::size_t(0), std::size_t(1) << 20, std::size_t(256) << 10, std::size_t(64) << 10,
                                 std::size_t(16) << 10}) {
        ctnn::MpiDistributed bucketed(MPI_COMM_WORLD, {.bucket_bytes = bucket});
        const AllreduceTimes t = time_allreduce(bucketed, Model::parameter_count, 200);
        if (dist.rank() == 0)
          std::printf("ALLREDUCE ranks=%d bytes=%zu bucket_bytes=%zu min_ms=%.3f median_ms=%.3f\n", ranks,
                      Model::parameter_count * sizeof(float), bucket, t.min_ms, t.median_ms);
      }
      return 0;
    }

    // Every rank reads the same samples (the Trainer shards each global batch).
    const std::size_t needed = (args.steps + args.warmup) * args.batch;
    const ctnn::data::Dataset all = ctnn::data::fashion_mnist(ctnn::data::default_fashion_mnist_dir(), needed).train;
    if (all.size() < needed)
      ctnn::MpiSession::abort("Fashion-MNIST has " + std::to_string(all.size()) + " training images; " +
                              std::to_string(needed) + " needed for --steps + --warmup");
    std::vector<std::size_t> warm_idx(args.warmup * args.batch), timed_idx(args.steps * args.batch);
    for (std::size_t i = 0; i < warm_idx.size(); ++i) warm_idx[i] = i;
    for (std::size_t i = 0; i < timed_idx.size(); ++i) timed_idx[i] = warm_idx.size() + i;
    const ctnn::data::Dataset warm = all.subset(warm_idx), timed = all.subset(timed_idx);

    Model net{42};
    if (args.warmup > 0) train_seconds(net, warm, args.batch, distributed, dist);
    dist.reset_stats();
    timed_dist.cpu_seconds_inside = 0;
    const double cpu_start = cpu_seconds();
    const double seconds = train_seconds(net, timed, args.batch, distributed, dist);
    const double cpu_mine = cpu_seconds() - cpu_start;
    // CPU time of the computation alone: the slowest rank's, without the time inside sum().
    double compute = cpu_mine - timed_dist.cpu_seconds_inside;
    dist.check(MPI_Allreduce(MPI_IN_PLACE, &compute, 1, MPI_DOUBLE, MPI_MAX, dist.comm()), "MPI_Allreduce");
    double cpu[1] = {cpu_mine};
    dist.sum(std::span<double>(cpu));
    const double allreduce_ms = dist.stats().seconds * 1e3 / double(args.steps);

    // The gradient allreduce alone (after a barrier, so no rank waits for another's compute).
    const AllreduceTimes alone = time_allreduce(dist, net.gradients().size(), 50);
    const double allreduce_alone_ms = ranks > 1 ? alone.median_ms : 0.0;
    const double allreduce_min_ms = ranks > 1 ? alone.min_ms : 0.0;

    // Forward and backward of one shard, outside the Trainer.
    const auto [first, count] = dist.shard(args.batch);
    std::vector<float> grad(count * Model::output_shape::size);
    const float* x = timed.images().data() + first * Model::input_shape::size;
    const std::int32_t* labels = timed.labels().data() + first;
    double fwd = 0, bwd = 0;
    constexpr int passes = 20;
    for (int i = 0; i < passes; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const float* y = net.forward_train(x, count);
      ctnn::SoftmaxCrossEntropy::forward(y, labels, count, Model::output_shape::size, grad.data());
      const auto t1 = std::chrono::steady_clock::now();
      net.backward(grad.data());
      const auto t2 = std::chrono::steady_clock::now();
      fwd += std::chrono::duration<double>(t1 - t0).count();
      bwd += std::chrono::duration<double>(t2 - t1).count();
    }
    // Rank 0's view; the shards differ by at most one sample.
    if (dist.rank() == 0) {
      std::printf("RESULT ranks=%d steps=%zu batch=%zu seconds=%.3f images_per_s=%.1f step_ms=%.3f "
                  "allreduce_ms=%.3f allreduce_alone_ms=%.3f allreduce_min_ms=%.3f forward_ms=%.3f backward_ms=%.3f "
                  "gradient_bytes=%zu bucket_bytes=%zu cpu_s=%.3f compute_cpu_ms=%.3f\n",
                  ranks, args.steps, args.batch, seconds, double(args.steps * args.batch) / seconds,
                  seconds * 1e3 / double(args.steps), allreduce_ms, allreduce_alone_ms, allreduce_min_ms,
                  fwd * 1e3 / passes, bwd * 1e3 / passes, net.gradients().size_bytes(), args.bucket_bytes, cpu[0],
                  compute * 1e3 / double(args.steps));
      std::fflush(stdout);
    }
    return 0;
  });
}
