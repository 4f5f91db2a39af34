#!/usr/bin/python3
"""End-to-end benchmark of the two example nets in PyTorch (the reference for bench/e2e_ctnn.cpp).

    e2e_torch.py --net fashion|cnn384 --mode train|infer [--threads N] [--warmup N]
                 [--min-steps N] [--window S] [--windows R] [--max-seconds S] [--limit N] [--data DIR]

Same layers, batch (64 / 8), Adam(lr=1e-3) and measurement protocol as e2e_ctnn: after --warmup
steps, --windows windows of at least --min-steps steps and --window seconds; the best window is
reported (shared machine), with the median and the images per CPU-second over all windows (the
process CPU time, all threads: robust to preemption when single-threaded). Fashion-MNIST is read from the same IDX files
(gzip + numpy, the first --limit training images, pixels / 255, reshuffled each epoch); the 384
net gets a fixed random batch with 2 classes. Prints one line per measurement:
    RESULT impl=torch net=fashion mode=train threads=2 batch=64 images_per_s=... ...
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(directory, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"e2e_torch: no {name}(.gz) in {directory}")


def fashion_net():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10))


def cnn384_net():
    layers, channels = [], 3
    for filters in (32, 64, 128, 256):
        layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(),
                   nn.Conv2d(filters, filters, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        channels = filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 256), nn.ReLU(),
               nn.Dropout(0.5), nn.Linear(256, 2)]
    return nn.Sequential(*layers)


def flops(model, sample_shape):
    """Forward FLOPs per image (2 per multiply-add; conv and linear only) and training FLOPs
    (3x forward, less the first layer's input gradient), counted as in e2e_ctnn."""
    counts, hooks = [], []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            counts.append(2.0 * module.out_channels * module.in_channels * k * output.shape[2] * output.shape[3])
        elif isinstance(module, nn.Linear):
            counts.append(2.0 * module.in_features * module.out_features)

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model.eval()
        model(torch.zeros(1, *sample_shape))
    for h in hooks:
        h.remove()
    forward = sum(counts)
    return forward, 3 * forward - counts[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--net", choices=["fashion", "cnn384"], default="fashion")
    p.add_argument("--mode", choices=["train", "infer"], default="train")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--min-steps", type=int, default=5)
    p.add_argument("--window", type=float, default=1.0)
    p.add_argument("--windows", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=60.0)
    p.add_argument("--limit", type=int, default=10000)
    p.add_argument("--data", default=os.environ.get("CTNN_FASHION_MNIST") or "/usr/share/datasets/fashion-mnist")
    o = p.parse_args()

    torch.set_num_threads(o.threads)
    torch.manual_seed(42)
    rng = np.random.default_rng(7)

    if o.net == "fashion":
        batch, model, sample_shape = 64, fashion_net(), (1, 28, 28)
        images = read_idx(find(o.data, "train-images-idx3-ubyte"))[: o.limit]
        labels = read_idx(find(o.data, "train-labels-idx1-ubyte"))[: o.limit]
        images = torch.from_numpy(images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
        labels = torch.from_numpy(labels.astype(np.int64))
        order, position = rng.permutation(len(labels)), 0

        def next_batch():
            nonlocal order, position
            if position + batch > len(order):  # drop the short last batch, reshuffle
                order, position = rng.permutation(len(labels)), 0
            idx = torch.from_numpy(order[position: position + batch])
            position += batch
            return images.index_select(0, idx), labels.index_select(0, idx)
    else:
        batch, model, sample_shape = 8, cnn384_net(), (3, 384, 384)
        gen = torch.Generator().manual_seed(123)
        x = torch.rand(batch, 3, 384, 384, generator=gen)
        y = torch.randint(0, 2, (batch,), generator=gen)

        def next_batch():
            return x, y

    forward_flops, train_flops = flops(model, sample_shape)
    print(f"INFO impl=torch net={o.net} params={sum(t.numel() for t in model.parameters())} "
          f"flops_forward_per_image={forward_flops:.6g} flops_train_per_image={train_flops:.6g} "
          f"torch={torch.__version__} threads={torch.get_num_threads()} "
          f"mkldnn={int(torch.backends.mkldnn.is_available())}", flush=True)

    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    if o.mode == "train":
        model.train()

        def step():
            xb, yb = next_batch()
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            return float(loss)
    else:
        model.eval()

        def step():
            xb, _ = next_batch()
            with torch.inference_mode():
                return float(model(xb)[0, 0])

    for _ in range(o.warmup):
        step()
    rates, steps, value = [], 0, 0.0
    start, cpu_start = time.perf_counter(), time.process_time()  # process CPU time: all threads
    for w in range(o.windows):
        if w > 0 and time.perf_counter() - start > o.max_seconds:
            break
        begin, n = time.perf_counter(), 0
        while n < o.min_steps or time.perf_counter() - begin < o.window:
            value = step()
            n += 1
            if w > 0 and time.perf_counter() - start > o.max_seconds:
                break
        rates.append(n * batch / (time.perf_counter() - begin))
        steps += n
    seconds = time.perf_counter() - start
    cpu_rate = steps * batch / (time.process_time() - cpu_start)
    rates.sort()
    best, median = rates[-1], rates[len(rates) // 2]
    work = train_flops if o.mode == "train" else forward_flops
    key = "loss" if o.mode == "train" else "logit0"
    print(f"RESULT impl=torch net={o.net} mode={o.mode} threads={o.threads} batch={batch} "
          f"images_per_s={best:.2f} median_images_per_s={median:.2f} cpu_images_per_s={cpu_rate:.2f} "
          f"gflops={best * work * 1e-9:.2f} "
          f"steps={steps} windows={len(rates)} seconds={seconds:.2f} {key}={value:.4f}", flush=True)


if __name__ == "__main__":
    main()
