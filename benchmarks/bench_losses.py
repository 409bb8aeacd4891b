"""Forward + backward time of each loss relative to cross-entropy on the same logits.

Prints a Markdown table: one row per loss, one column per (device, B, K), each cell the time of
``loss(logits, targets).backward()`` divided by that of ``F.cross_entropy`` (the absolute CE time
is in the first row, in µs). Goal: every loss within 2× CE at B = 1024, LMF within 1.5×.

On a shared machine wall-clock times swing with the neighbours' load, so on CPU the timer is the
thread's CPU time (``time.thread_time``), the functions are measured in interleaved rounds and
each keeps its fastest block. CUDA uses the default (synchronising, wall-clock) timer.
Run: ``python benchmarks/bench_losses.py [--threads N] [--rounds R] [--min-run-time S]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.benchmark import Timer

from lmf.losses import LOSSES, build_loss

BATCH_SIZES = (32, 1024)
NUM_CLASSES = (4, 8)


def long_tailed_counts(num_classes: int, ratio: float = 100.0) -> np.ndarray:
    """Exponentially decaying class counts, head/tail ratio ``ratio`` (as in digits-LT)."""
    return np.round(1000 * ratio ** (-np.arange(num_classes) / (num_classes - 1)))


def time_backward(loss_fn, logits, targets, min_run_time: float) -> float:
    """Seconds of one forward + backward pass: the fastest block of a blocked autorange."""
    timer = Timer(
        stmt="logits.grad = None; loss_fn(logits, targets).backward()",
        globals={"loss_fn": loss_fn, "logits": logits, "targets": targets},
        **({"timer": time.thread_time} if logits.device.type == "cpu" else {}),
    )
    return min(timer.blocked_autorange(min_run_time=min_run_time).times)


def measure(device: str, batch: int, num_classes: int, rounds: int,
            min_run_time: float) -> dict[str, float]:
    """CE time (µs, key "ce_us") and each loss's time relative to CE."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(batch, num_classes, generator=generator).to(device).requires_grad_()
    targets = torch.randint(0, num_classes, (batch,), generator=generator).to(device)
    counts = long_tailed_counts(num_classes)
    functions = {"ce": F.cross_entropy}
    functions.update({name: build_loss(name, counts).to(device) for name in LOSSES})
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            best[name] = min(best[name], time_backward(function, logits, targets, min_run_time))
    row = {name: best[name] / best["ce"] for name in LOSSES}
    row["ce_us"] = best["ce"] * 1e6
    return row


def markdown_table(results: dict[tuple[str, int, int], dict[str, float]]) -> str:
    columns = list(results)
    header = "| loss | " + " | ".join(f"{d} B={b} K={k}" for d, b, k in columns) + " |"
    lines = [header, "|---" * (len(columns) + 1) + "|"]
    lines.append("| F.cross_entropy (µs) | "
                 + " | ".join(f"{results[c]['ce_us']:.0f}" for c in columns) + " |")
    for name in LOSSES:
        lines.append(f"| {name} | " + " | ".join(f"{results[c][name]:.2f}×" for c in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--min-run-time", type=float, default=0.05,
                        help="seconds per measurement (default 0.05)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = {
        (device, batch, k): measure(device, batch, k, args.rounds, args.min_run_time)
        for device in devices for batch in BATCH_SIZES for k in NUM_CLASSES
    }
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s), best of {args.rounds} rounds"
          + (f", {torch.cuda.get_device_name()}" if "cuda" in devices else ""))
    print()
    print(markdown_table(results))


if __name__ == "__main__":
    main()
