// Positive control for infra_selftest.cpp: the same header, a true assertion. Files named
// *_ok.cpp must compile; this one proves the include flags of the compile-fail tests work.
#include <ctnn/random.hpp>

static_assert(sizeof(ctnn::Rng) == 4 * sizeof(std::uint64_t), "Rng holds four 64-bit words");
