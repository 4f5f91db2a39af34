#!/usr/bin/env bash
# Packs what the device-check build needs from this (Debian) machine into one folder that travels
# to a GPU machine without those packages: bench/cuda/device_check.sh takes the folder.
#
# usage: bench/cuda/pack_deps.sh [DEST]        (DEST defaults to .deps in the repository root)
#
#   DEST/include/   xtensor, xtl, xsimd, boost/hana (+ boost/config), zlib.h, zconf.h, and every
#                   other non-system header the GPU programs include (g++ -M closure)
#   DEST/lib/       libz.a
#   DEST/fashion-mnist/  the first 10000 training and 2000 test images and labels, as gzipped IDX
#                   files (about 4 MB instead of 30), from $CTNN_FASHION_MNIST or
#                   /usr/share/datasets/fashion-mnist
# About 15 MB in all. DEST is added to .git/info/exclude, so it stays out of `git status` and must
# be named in the device tool's `carry` (e.g. carry [".deps"]).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="${1:-$root/.deps}"
mkdir -p "$dest/include/boost" "$dest/lib" "$dest/fashion-mnist"
dest="$(cd "$dest" && pwd)"

inc=/usr/include
for d in xtensor xtl xsimd; do
  [[ -d "$inc/$d" ]] || { echo "pack_deps: $inc/$d missing (apt-get install lib$d-dev)" >&2; exit 1; }
  cp -rL "$inc/$d" "$dest/include/"
done
cp -rL "$inc/boost/hana" "$inc/boost/config" "$dest/include/boost/"
cp -L "$inc/boost/hana.hpp" "$inc/boost/config.hpp" "$inc/boost/version.hpp" "$dest/include/boost/"
cp -L "$inc/zlib.h" "$inc/zconf.h" "$dest/include/"

# Anything else the GPU programs reach outside the C and C++ standard libraries.
probe_flags=(-std=c++20 -M -I "$root/include")
for src in tests/cuda/test_cuda_layers.cpp examples/cuda/fashion_mnist_gpu.cpp bench/cuda/bench_cuda.cpp; do
  g++ "${probe_flags[@]}" "$root/$src"
done | tr ' \\' '\n\n' | grep "^$inc/" | sort -u |
  grep -v -e "^$inc/c++/" -e "^$inc/x86_64-linux-gnu/" -e "^$inc/[^/]*\.h$" -e "^$inc/linux/" \
          -e "^$inc/asm-generic/" |
  while read -r f; do
    rel="${f#"$inc"/}"
    mkdir -p "$dest/include/$(dirname "$rel")"
    cp -L "$f" "$dest/include/$rel"
  done

libz=$(ls /usr/lib/*/libz.a /usr/lib/libz.a 2>/dev/null | head -1 || true)
[[ -n "$libz" ]] || { echo "pack_deps: libz.a not found (apt-get install zlib1g-dev)" >&2; exit 1; }
cp -L "$libz" "$dest/lib/libz.a"

# A Fashion-MNIST subset: IDX files keep their format, with the count in the header cut down.
src_dir="${CTNN_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"
python3 - "$src_dir" "$dest/fashion-mnist" <<'PY'
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
limits = {"train": 10000, "t10k": 2000}
for part, limit in limits.items():
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        name = f"{part}-{kind}"
        path = os.path.join(src, name + ".gz")
        opener = gzip.open if os.path.exists(path) else open
        path = path if os.path.exists(path) else os.path.join(src, name)
        with opener(path, "rb") as f:
            data = f.read()
        ndim = data[3]
        dims = list(struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim]))
        item = 1
        for d in dims[1:]:
            item *= d
        n = min(limit, dims[0])
        dims[0] = n
        header = data[:4] + struct.pack(">" + "I" * ndim, *dims)
        body = data[4 + 4 * ndim: 4 + 4 * ndim + n * item]
        with gzip.open(os.path.join(dst, name + ".gz"), "wb", compresslevel=9) as f:
            f.write(header + body)
PY

# Keep the folder out of git status when it sits inside the repository.
case "$dest" in
  "$root"/*)
    rel="/${dest#"$root"/}/"
    exclude="$root/.git/info/exclude"
    if [[ -d "$root/.git/info" ]] && ! grep -qxF "$rel" "$exclude" 2>/dev/null; then
      echo "$rel" >>"$exclude"
      echo "pack_deps: added $rel to .git/info/exclude"
    fi
    ;;
esac
du -sh "$dest"
echo "pack_deps: done; on the GPU machine run: bash bench/cuda/device_check.sh ${dest#"$root"/}"
