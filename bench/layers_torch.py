#!/usr/bin/python3
"""PyTorch's side of bench/bench_layers.cpp: the Fashion-MNIST CNN's convolution, max-pooling and
ReLU layers at batch 64 (float, CPU), one line per case and thread count:

  LAYER impl=torch case=conv2_fwd threads=1 ms=1.234 median_ms=1.301 calls=250 gflops=...

usage: /usr/bin/python3 bench/layers_torch.py [--threads "1 2"] [--seconds 0.3] [--cases conv1_fwd,...]
(Debian's python3-torch; `python3` may be a pyenv shim without torch.)

ms is the fastest single call (time.perf_counter around the call) over calls timed for about
--seconds per case after a warm-up, the same "best call" statistic as bench_layers' best_ms; the
machine may be shared. Forward passes run with autograd recording (as in a training step: max
pooling then also keeps its indices, like ctnn's argmax); backward passes are
torch.autograd.grad on a retained graph, so only the backward kernels are timed:
  conv1_bwd  weight and bias gradients (the first layer's input needs no gradient)
  conv2_bwd  weight, bias and input gradients
  pool*_bwd  input gradient of F.max_pool2d;  relu1_bwd  input gradient of F.relu
Inputs are seeded (torch.manual_seed) but not the same numbers as ctnn's.
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F

BATCH = 64
# name: (C, H, W, F, K) for convolutions; (C, H, W, window) for pooling
CONV = {"conv1": (1, 28, 28, 32, 3), "conv2": (32, 13, 13, 64, 3)}
POOL = {"pool1": (32, 26, 26, 2), "pool2": (64, 11, 11, 2)}
RELU = {"relu1": (32, 26, 26)}
CASES = ["conv1_fwd", "conv1_bwd", "conv2_fwd", "conv2_bwd", "pool1_fwd", "pool1_bwd",
         "pool2_fwd", "pool2_bwd", "relu1_fwd", "relu1_bwd"]


def conv_flops(name):
    c, h, w, f, k = CONV[name]
    oh, ow = h - k + 1, w - k + 1
    return 2.0 * f * c * k * k * oh * ow * BATCH


def make(case):
    """Returns (call, flops per call) for one case; call() runs the timed pass once."""
    layer, kind = case.split("_")
    torch.manual_seed(0)
    if layer in CONV:
        c, h, w, f, k = CONV[layer]
        with_dx = layer != "conv1"
        x = torch.rand(BATCH, c, h, w) * 2 - 1
        x.requires_grad_(with_dx)
        weight = ((torch.rand(f, c, k, k) * 2 - 1) * 0.3).requires_grad_()
        bias = ((torch.rand(f) * 2 - 1) * 0.1).requires_grad_()
        if kind == "fwd":
            return (lambda: F.conv2d(x, weight, bias)), conv_flops(layer)
        y = F.conv2d(x, weight, bias)
        dy = (torch.rand_like(y) * 2 - 1) * 0.01
        inputs = (weight, bias, x) if with_dx else (weight, bias)
        return (lambda: torch.autograd.grad(y, inputs, dy, retain_graph=True)), \
            conv_flops(layer) * (2 if with_dx else 1)
    if layer in POOL:
        c, h, w, win = POOL[layer]
        x = (torch.rand(BATCH, c, h, w) * 2 - 1).requires_grad_()
        if kind == "fwd":
            return (lambda: F.max_pool2d(x, win)), 0.0
        y = F.max_pool2d(x, win)
        dy = (torch.rand_like(y) * 2 - 1) * 0.01
        return (lambda: torch.autograd.grad(y, (x,), dy, retain_graph=True)), 0.0
    c, h, w = RELU[layer]
    x = (torch.rand(BATCH, c, h, w) * 2 - 1).requires_grad_()
    if kind == "fwd":
        return (lambda: F.relu(x)), 0.0
    y = F.relu(x)
    dy = (torch.rand_like(y) * 2 - 1) * 0.01
    return (lambda: torch.autograd.grad(y, (x,), dy, retain_graph=True)), 0.0


def measure(call, seconds):
    for _ in range(3):  # warm-up: allocator, oneDNN primitive cache, thread pool
        call()
    times = []
    deadline = time.perf_counter() + seconds
    while True:
        start = time.perf_counter()
        call()
        end = time.perf_counter()
        times.append(end - start)
        if end >= deadline and len(times) >= 5:
            break
    times.sort()
    return times[0], times[len(times) // 2], len(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1 2", help='thread counts, e.g. "1 2"')
    p.add_argument("--seconds", type=float, default=0.3, help="timed seconds per case")
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    a = p.parse_args()
    cases = [c for c in a.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        sys.exit(f"layers_torch.py: unknown case(s) {','.join(unknown)}")
    print(f"INFO impl=torch torch={torch.__version__} mkldnn={torch.backends.mkldnn.is_available()} "
          f"batch={BATCH}", flush=True)
    for t in (int(s) for s in a.threads.split()):
        torch.set_num_threads(t)
        for case in cases:
            call, flops = make(case)
            best, median, n = measure(call, a.seconds)
            extra = f" gflops={flops / best * 1e-9:.3f}" if flops else ""
            print(f"LAYER impl=torch case={case} threads={t} ms={best * 1e3:.4f} "
                  f"median_ms={median * 1e3:.4f} calls={n}{extra}", flush=True)


if __name__ == "__main__":
    main()
