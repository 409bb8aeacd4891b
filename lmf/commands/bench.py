"""``lmf bench``: training throughput (images/s) of the paper's three models on this machine.

Each model trains for a few steps on random data (batch and size of the paper's recipe) in three
modes: eager float32; channels-last with bf16 autocast (CUDA only); and the latter compiled with
``torch.compile``. It answers "what does this GPU give me, and which options to turn on"; the
results of a CPU-only machine are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import time

from lmf.paper import PAPER_MODELS

MODES = ("eager", "channels_last+bf16", "compiled")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="images/s of the paper's models (eager, channels_last+bf16, compiled)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--models", nargs="+", default=list(PAPER_MODELS))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    parser.set_defaults(func=run)


def images_per_second(arch: str, mode: str, device, batch_size: int, image_size: int,
                      steps: int, warmup: int = 3) -> float:
    """Training images/s of ``arch`` (forward, backward, Adam step) in ``mode``."""
    import torch
    import torch.nn.functional as F

    from lmf.models import build_model

    fast = mode != "eager" and device.type == "cuda"
    memory_format = torch.channels_last if fast else torch.contiguous_format
    model = build_model(arch, 8, pretrained=False).to(device, memory_format=memory_format)
    net = torch.compile(model) if mode == "compiled" else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    images = torch.rand(batch_size, 3, image_size, image_size, device=device)
    images = images.contiguous(memory_format=memory_format)
    labels = torch.randint(0, 8, (batch_size,), device=device)

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=fast):
            loss = F.cross_entropy(net(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return steps * batch_size / (time.perf_counter() - start)


def run(args) -> int:
    import torch

    from lmf.train import resolve_device

    device = resolve_device(args.device)
    modes = args.modes if device.type == "cuda" else ["eager"]
    print(f"training throughput on {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}"
          f", batch {args.batch_size}, {args.image_size} px (images/s)\n")
    print("| model | " + " | ".join(modes) + " |")
    print("|---|" + "---:|" * len(modes))
    for arch in args.models:
        rates = [images_per_second(arch, mode, device, args.batch_size, args.image_size,
                                   args.steps) for mode in modes]
        print(f"| {arch} | " + " | ".join(f"{rate:,.1f}" for rate in rates) + " |", flush=True)
    return 0
