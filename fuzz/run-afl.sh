#!/usr/bin/env bash
# Builds one fuzz harness with AFL++ instrumentation and fuzzes it for a while.
#
# usage: fuzz/run-afl.sh NAME [SECONDS] [WORK_DIR]
#   NAME      idx | weights | checkpoint
#   SECONDS   fuzzing time (default 660)
#   WORK_DIR  where the binary and AFL++'s findings go (default /tmp/ctnn-fuzz-NAME)
# Environment:
#   SANITIZE=0   build without AddressSanitizer + UndefinedBehaviorSanitizer (with
#                float-cast-overflow; default 1). Faster
#                in afl-g++'s fork-server mode; replay the findings afterwards through a sanitized
#                build (fuzz/README.md).
#
# idx and weights compile with clang, so they use afl-clang-fast++ and AFL++'s persistent mode
# (-DCTNN_FUZZ_PERSISTENT: thousands of inputs per process). checkpoint needs the whole trainer,
# whose policies take double template arguments that clang 14 does not support, so it uses
# afl-g++ (GCC, classic instrumentation, one fork per input, the input file passed as @@).
# (afl-g++-fast, the GCC plugin, refuses Debian 12's GCC: "GCC and plugin have incompatible
# versions".) At the end the fuzzer_stats summary is printed; crashes and hangs are under
# WORK_DIR/findings/default/{crashes,hangs}.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="${1:?usage: fuzz/run-afl.sh idx|weights|checkpoint [SECONDS] [WORK_DIR]}"
seconds="${2:-660}"
work="${3:-/tmp/ctnn-fuzz-$name}"
sanitize="${SANITIZE:-1}"

case "$name" in
  idx | weights) compiler=afl-clang-fast++ mode=(-DCTNN_FUZZ_PERSISTENT) target_args=() ;;
  checkpoint) compiler=afl-g++ mode=() target_args=(@@) ;;
  *) echo "fuzz/run-afl.sh: unknown harness '$name' (idx, weights or checkpoint)" >&2; exit 2 ;;
esac

mkdir -p "$work"
extra=()
if [[ "$sanitize" == 1 ]]; then
  export AFL_USE_ASAN=1 AFL_USE_UBSAN=1
  # Not part of GCC's -fsanitize=undefined: a NaN or huge double from a file converted to an
  # integer (how the checkpoint fuzzer's three crashes were found).
  extra=(-fsanitize=float-cast-overflow)
fi
"$compiler" -std=c++20 -O2 -g "${mode[@]}" "${extra[@]}" -I"$root/include" -I"$root/fuzz" \
  "$root/fuzz/${name}_fuzz.cpp" -o "$work/${name}_fuzz" -lz
unset AFL_USE_ASAN AFL_USE_UBSAN

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
rm -rf "$work/findings"
# -m none: ASan reserves terabytes of virtual memory; -V: stop after SECONDS.
timeout $((seconds + 120)) afl-fuzz -V "$seconds" -m none -t 1000 -i "$root/fuzz/corpus/$name" \
  -o "$work/findings" -- "$work/${name}_fuzz" "${target_args[@]}" >"$work/afl.log" 2>&1 || true

stats="$work/findings/default/fuzzer_stats"
if [[ ! -f "$stats" ]]; then
  echo "fuzz/run-afl.sh: afl-fuzz did not start; see $work/afl.log" >&2
  tail -20 "$work/afl.log" >&2
  exit 1
fi
grep -E '^(run_time|execs_done|execs_per_sec|cycles_done|corpus_count|bitmap_cvg|saved_crashes|saved_hangs) ' "$stats"
echo "findings: $work/findings/default (queue, crashes, hangs)"
