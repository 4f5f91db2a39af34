#!/usr/bin/env bash
# The whole GPU check of the CUDA backend as one command, for a session that has a GPU machine:
# configure + build (bench/cuda/device, Release), the gpu-labelled tests, the benchmark against
# PyTorch. About 5 minutes on an H200 machine (16 cores); the stages are capped at 90 + 240 +
# 180 + 120 seconds, so whatever happens the logs under OUT come back.
#
# usage: bash bench/cuda/device_check.sh DEPS [OUT]
#   DEPS  folder made by bench/cuda/pack_deps.sh on a Debian machine: include/ (xtensor, xtl,
#         xsimd, boost/hana, zlib.h), lib/libz.a, fashion-mnist/ (a subset, gzipped IDX)
#   OUT   where the results go (default: $OUT, else ./device-check-out): summary.txt, env.txt,
#         configure.log, build.log, tests.log, bench.txt
#
# From the session (device tool), with .deps made by pack_deps.sh beforehand:
#   run(command="bash bench/cuda/device_check.sh .deps", carry=[".deps"], timeout_s=600)
# Exit status: 0 when the build, every gpu test and the benchmark succeeded.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $# -ge 1 ]] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
deps="$(cd "$1" && pwd)" || { echo "device_check: no folder $1" >&2; exit 2; }
out="${2:-${OUT:-$PWD/device-check-out}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="${CTNN_DEVICE_BUILD:-/tmp/ctnn-device-build}"
jobs="${CTNN_JOBS:-$(nproc)}"
status=0
summary="$out/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
stage() {  # stage NAME LIMIT LOG CMD...: runs CMD with a time limit, logs it, notes the result
  local name="$1" limit="$2" log="$3" start=$SECONDS rc
  shift 3
  echo "==== $name" | tee -a "$log"
  timeout "$limit" "$@" >>"$log" 2>&1
  rc=$?
  note "$(printf '%-10s %s (%ss, exit %s)' "$name" "$([[ $rc == 0 ]] && echo ok || echo FAILED)" $((SECONDS - start)) "$rc")"
  [[ $rc == 0 ]] || status=1
  return $rc
}

# --- the machine ---------------------------------------------------------------------------
if ! command -v nvcc >/dev/null 2>&1; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [[ -x "$d/nvcc" ]] && export PATH="$d:$PATH" && break; done
fi
{
  echo "date: $(date -u)"; uname -a
  nvidia-smi -L 2>&1; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  nvcc --version 2>&1 | tail -2; cmake --version | head -1; ninja --version; c++ --version | head -1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1
} >"$out/env.txt" 2>&1
note "device check of the ctnn CUDA backend, $(date -u +%FT%TZ), $(nvidia-smi -L 2>/dev/null | head -1)"

# cuBLAS: the toolkit's, else the nvidia-cublas wheel that PyTorch brings.
cublas_args=()
if ! ls "$(dirname "$(dirname "$(command -v nvcc)")")"/lib*/libcublas.so* >/dev/null 2>&1 &&
   ! ls "$(dirname "$(dirname "$(command -v nvcc)")")"/targets/*/lib/libcublas.so* >/dev/null 2>&1; then
  wheel="$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0])' 2>/dev/null)"
  for d in "$wheel"/cu13 "$wheel"/cublas; do
    [[ -f "$d/include/cublas_v2.h" ]] && cublas_args=(-DCTNN_CUBLAS_ROOT="$d") && break
  done
  note "cuBLAS not in the toolkit; using ${cublas_args[*]:-(none found)}"
fi

# --- configure and build -------------------------------------------------------------------
stage configure 90 "$out/configure.log" \
  cmake -S "$root/bench/cuda/device" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCTNN_DEPS="$deps" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" "${cublas_args[@]}" || {
  tail -30 "$out/configure.log"; exit 1; }
stage build "${CTNN_BUILD_LIMIT:-240}" "$out/build.log" cmake --build "$build" -j "$jobs" \
  --target test_cuda_layers fashion_mnist_gpu bench_cuda || { tail -40 "$out/build.log"; exit 1; }

# --- tests: every gpu-labelled test; the data must be there ---------------------------------
export CTNN_FASHION_MNIST="$deps/fashion-mnist" CTNN_CUDA_REQUIRE_DATA=1
stage tests 180 "$out/tests.log" ctest --test-dir "$build" -L gpu --verbose --timeout 170
grep -E "(^|: )(FAIL|SKIPPED)|[0-9]+ passed, [0-9]+ failed|tests passed|\*\*\*|^device:" "$out/tests.log" |
  sed 's/^[0-9]*: //' | tee -a "$summary" >/dev/null
if grep -qE "SKIPPED|\*\*\*Skipped" "$out/tests.log"; then  # on a GPU machine nothing may skip
  note "tests      FAILED: a gpu test was skipped (no usable device, or no data?), see tests.log"
  status=1
fi

# --- benchmark against PyTorch on the same GPU ----------------------------------------------
stage bench 120 "$out/bench.txt" bash "$root/bench/cuda/run" "$build"
sed -n '/^model /,$p' "$out/bench.txt" >>"$summary"
if ! grep -q "^RESULT backend=ctnn" "$out/bench.txt"; then
  note "bench      FAILED: bench_cuda produced no result, see bench.txt"
  status=1
fi

echo
cat "$summary"
exit $status
