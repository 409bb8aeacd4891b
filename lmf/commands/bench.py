"""``lmf bench``: training throughput (images/s) of the paper's three models on this machine.

Each model trains for a few steps on random data (batch and size of the paper's recipe) in three
modes: eager float32; channels-last with bf16 autocast (CUDA only); and the latter compiled with
``torch.compile``. It answers "what does this GPU give me, and which options to turn on"; the
results of a CPU-only machine are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse

from lmf.classification.paper import PAPER_MODELS
from lmf.commands import help_text

MODES = ("eager", "channels_last+bf16", "compiled")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="images/s of the paper's models (eager, channels_last+bf16, compiled)",
        description=help_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--models", nargs="+", default=list(PAPER_MODELS), metavar="ARCH",
                        help="architectures of lmf.classification.models, see lmf list models (default: "
                             "the paper's three)")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES,
                        help="modes to time (default: all; on a CPU only eager)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step (default 32)")
    parser.add_argument("--image-size", type=int, default=224,
                        help="image side in px (default 224)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement")
    parser.set_defaults(func=run)


def images_per_second(arch: str, mode: str, device, batch_size: int, image_size: int,
                      steps: int, warmup: int = 3) -> float:
    """Training images/s of ``arch`` (forward, backward, Adam step) in ``mode``."""
    from lmf.classification.models import build_model
    from lmf.core.throughput import bare_training_step, time_steps

    fast = mode != "eager" and device.type == "cuda"
    step = bare_training_step(build_model(arch, 8, pretrained=False), device, batch_size,
                              image_size, 8, bf16=fast, channels_last=fast,
                              compile=mode == "compiled")
    return time_steps(step, device, steps, batch_size, warmup).images_per_second


def run(args) -> int:
    import torch

    from lmf.core.devices import resolve_device

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
