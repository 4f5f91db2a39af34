#!/usr/bin/env python3
"""PyTorch twin of bench_cuda: training images/s of the same networks on the same GPU.

    torch_bench.py --model fashion|cnn384 [--batch N] [--steps N] [--warmup N] [--mode fp32,default]

A full training step (forward, cross-entropy, backward, Adam) on a synthetic batch that already
lives on the GPU, timed over --steps steps after --warmup steps, with cudnn.benchmark on.
--mode fp32: TF32 off everywhere (what ctnn's cuBLAS path computes by default);
--mode default: PyTorch's defaults (TF32 for cuDNN convolutions, FP32 matmuls);
a comma-separated list runs each in turn in one process (one PyTorch start-up).
Prints one line per mode: RESULT backend=torch-<mode> model=... batch=... steps=... ms_per_step=...
images_per_s=...
"""
import argparse
import sys
import time


def fashion(nn):
    # examples/models.hpp FashionMnistModel
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10)), (1, 28, 28), 10


def cnn384(nn):
    # examples/models.hpp Cnn384Model
    layers, c = [], 3
    for f in (32, 64, 128, 256):
        layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(), nn.Conv2d(f, f, 3, padding=1), nn.ReLU(),
                   nn.MaxPool2d(2)]
        c = f
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5),
               nn.Linear(256, 2)]
    return nn.Sequential(*layers), (3, 384, 384), 2


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["fashion", "cnn384"], required=True)
    p.add_argument("--batch", type=int, default=0)
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--mode", default="fp32", help="fp32, default, or both: fp32,default")
    a = p.parse_args()
    modes = a.mode.split(",")
    if any(m not in ("fp32", "default") for m in modes):
        p.error("--mode takes fp32, default or a comma-separated list of them")
    try:
        import torch
        from torch import nn
    except ImportError:
        print("SKIPPED: PyTorch is not installed")
        return 77
    if not torch.cuda.is_available():
        print("SKIPPED: PyTorch sees no CUDA device")
        return 77
    defaults = {"fashion": (64, 200, 20), "cnn384": (16, 10, 3)}[a.model]
    batch, steps, warmup = (a.batch or defaults[0], a.steps or defaults[1], a.warmup or defaults[2])
    torch.backends.cudnn.benchmark = True
    for mode in modes:
        strict = mode == "fp32"
        torch.backends.cudnn.allow_tf32 = not strict
        torch.backends.cuda.matmul.allow_tf32 = False  # PyTorch's default for matmuls
        torch.manual_seed(42)
        model, shape, classes = (fashion if a.model == "fashion" else cnn384)(nn)
        dev = torch.device("cuda")
        model = model.to(dev).train()
        x = torch.rand((batch,) + shape, device=dev)
        y = torch.randint(0, classes, (batch,), device=dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss

        for _ in range(warmup):
            step()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        print(f"RESULT backend=torch-{mode} model={a.model} batch={batch} steps={steps} "
              f"ms_per_step={1e3 * seconds / steps:.3f} images_per_s={batch * steps / seconds:.1f} "
              f"last_loss={loss.item():.4f}", flush=True)
        del model, opt, x, y
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
