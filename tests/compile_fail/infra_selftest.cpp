// Self-test of the compile-fail machinery (tests/compile_fail/run_case.cmake), not a library
// rule: a failing static_assert on a ctnn type must be reported, briefly, with its message.
// The regexes use [ ] ( ) \ and ; on purpose, to check they reach CMake intact.
// expect: infra_selftest\.cpp:[0-9]+:[0-9]+: error: static assertion failed
// expect: infra self-test; this must not compile
// expect: sizeof \(ctnn::Rng\)|\(32 == 0\)
// max-lines: 6
#include <ctnn/random.hpp>

static_assert(sizeof(ctnn::Rng) == 0, "infra self-test; this must not compile");
