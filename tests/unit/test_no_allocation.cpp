// No heap allocation inside a training or inference step after the first one: every buffer is
// sized from the static shapes and the batch. Global operator new is replaced in this test
// binary to count allocations while steps run.
// GCC cannot see that these delete operators pair with the malloc-based new operators below.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <ctnn/ctnn.hpp>
#include <new>

#if CTNN_HAS_OPENMP
#include <omp.h>
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  const std::size_t a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) { return operator new(size, align); }
// Every form of new is replaced (Catch uses the nothrow one), so every delete pairs with malloc.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try { return operator new(size); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try { return operator new(size); } catch (...) { return nullptr; }
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try { return operator new(size, align); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  try { return operator new(size, align); } catch (...) { return nullptr; }
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace ctnn;

template <class Model, class Optimizer>
std::size_t allocations_in_steady_state(std::size_t batch) {
  Model net{1};
  typename Optimizer::template rebind<float> optimizer;
  optimizer.resize(Model::parameter_count);
  constexpr std::size_t classes = Model::output_shape::size;
  std::vector<float> x(batch * Model::input_shape::size), grad(batch * classes);
  std::vector<std::int32_t> labels(batch);
  Rng rng(3);
  for (auto& v : x) v = float(rng.uniform());
  for (auto& l : labels) l = std::int32_t(rng.below(classes));
  const auto segments = std::span<const ParameterSegment>(Model::parameter_segments());
  auto step = [&] {
    const float* y = net.forward_train(x.data(), batch);
    SoftmaxCrossEntropy::forward(y, labels.data(), batch, classes, grad.data());
    net.backward(grad.data());
    optimizer.step(net.parameters(), std::span<const float>(net.gradients()), 1e-3, segments);
    net.predict(x.data(), batch);
  };
  step();  // the first step sizes every buffer
  allocations = 0;
  counting = true;
  for (int i = 0; i < 3; ++i) step();
  counting = false;
  return allocations;
}

TEST_CASE("training and inference steps do not allocate after the first", "[allocation]") {
#if CTNN_HAS_OPENMP
  // The kernels split the batch over threads; each thread's workspace must stop growing too.
  const int threads = GENERATE(1, 2);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  INFO("threads: " << threads);
#endif
  using Canonical = Net<Input<1, 28, 28>, Conv<32, 3>, Relu, MaxPool<2>, Conv<64, 3>, Relu, MaxPool<2>,
                        Flatten, Dense<128>, Relu, Dropout<0.5>, Dense<10>>;
  CHECK(allocations_in_steady_state<Canonical, Adam<>>(16) == 0);
  using Everything = Net<Input<3, 12, 12>, Conv<8, 3, 1, 1>, BatchNorm, LeakyRelu<>, AvgPool<2>,
                         Residual<Conv<8, 3, 1, 1>, Tanh>, MaxPool<3, 2>, GlobalAvgPool, Dense<16>,
                         Sigmoid, Dropout<0.2>, Dense<4>>;
  CHECK(allocations_in_steady_state<Everything, Sgd<0.9>>(5) == 0);
  CHECK(allocations_in_steady_state<Everything, RmsProp<>>(5) == 0);
#if CTNN_HAS_OPENMP
  omp_set_num_threads(saved);
#endif
}

TEST_CASE("the counter sees allocations (the test can fail)", "[allocation]") {
  allocations = 0;
  counting = true;
  auto* v = new std::vector<int>(100);
  counting = false;
  delete v;
  CHECK(allocations >= 2);
}
