"""Forward + backward time of each segmentation loss relative to pixel-wise cross-entropy.

Prints a Markdown table: one row per loss of ``lmf.seg.SEG_LOSSES``, two columns per
(device, K): the time of ``loss(logits, masks).backward()`` on (8, K, 128, 128) logits in ms and
its ratio to ``F.cross_entropy`` on the same logits (first row). Goal: every loss within 2× CE.
Pixel counts are long-tailed (background first, head/tail 100).

As in ``bench_losses.py``: on CPU the timer is the thread's CPU time (``time.thread_time``), the
losses are measured in interleaved rounds and each keeps its fastest block; CUDA uses the
default (synchronising, wall-clock) timer.
Run: ``python benchmarks/bench_seg_losses.py [--threads N] [--rounds R] [--min-run-time S]``.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from bench_losses import long_tailed_counts, time_backward

from lmf.seg.losses import SEG_LOSSES, build_seg_loss

SHAPE = (8, 128, 128)  # batch, height, width
NUM_CLASSES = (2, 4)


def measure(device: str, num_classes: int, rounds: int, min_run_time: float) -> dict[str, float]:
    """Seconds of forward + backward of F.cross_entropy (key "F.cross_entropy") and each loss."""
    batch, height, width = SHAPE
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(batch, num_classes, height, width, generator=generator)
    logits = logits.to(device).requires_grad_()
    masks = torch.randint(0, num_classes, SHAPE, generator=generator).to(device)
    counts = long_tailed_counts(num_classes)
    functions = {"F.cross_entropy": F.cross_entropy}
    functions.update({name: build_seg_loss(name, counts).to(device) for name in SEG_LOSSES})
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            best[name] = min(best[name], time_backward(function, logits, masks, min_run_time))
    return best


def markdown_table(results: dict[tuple[str, int], dict[str, float]]) -> str:
    columns = list(results)
    header = "| loss | " + " | ".join(f"{d} K={k} ms | ×CE" for d, k in columns) + " |"
    lines = [header, "|---" + "|---:|---:" * len(columns) + "|"]
    for name in ("F.cross_entropy", *SEG_LOSSES):
        cells = []
        for column in columns:
            seconds, ce = results[column][name], results[column]["F.cross_entropy"]
            cells.append(f"{seconds * 1e3:.2f} | {seconds / ce:.2f}×")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--min-run-time", type=float, default=0.2,
                        help="seconds per measurement (default 0.2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results = {(device, k): measure(device, k, args.rounds, args.min_run_time)
               for device in devices for k in NUM_CLASSES}
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s), best of {args.rounds} rounds, "
          f"logits ({SHAPE[0]}, K, {SHAPE[1]}, {SHAPE[2]})"
          + (f", {torch.cuda.get_device_name()}" if "cuda" in devices else ""))
    print()
    print(markdown_table(results))


if __name__ == "__main__":
    main()
