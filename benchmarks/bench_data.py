"""Images per second of the cached loader versus decoding and resizing source-size JPEGs.

What a training epoch does without a cache (what the authors' ``ImageFolder`` + ``Resize`` did):
open each JPEG, decode it, squash it to 224×224, convert to a tensor. With ``lmf.data.prepare``
the first two steps happen once; an epoch only indexes the uint8 cache in shuffled batches and
calls ``to_tensor``. Both loaders run single-process, single-threaded, on synthetic JPEGs of the
real datasets' sizes (600×450 like HAM10000, 1024×1024 like most of ISIC 2019).

The second table is the loader's share of one CPU training step (forward, backward, SGD step)
of a small CNN (timm ``resnet10t``, random init) at the given batch size, for both loaders.

On a shared machine wall-clock times swing with the neighbours' load, so times are the CPU time
of the measuring thread (``time.thread_time``) with one torch thread; each measurement keeps its
fastest round. The cache build column is wall-clock time (one decoding thread).
Run: ``python benchmarks/bench_data.py [--images N] [--size 224] [--batch 32] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lmf.data import prepare, to_tensor
from lmf.data.decode import load_image

SOURCES = {"600×450 (HAM)": (600, 450), "1024×1024 (ISIC)": (1024, 1024)}


def synthetic_jpeg(path: Path, size: tuple[int, int], seed: int) -> None:
    """A photo-like JPEG: smooth colour fields plus fine noise, quality 90."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(size,
                                                                                     Image.BICUBIC)
    pixels = np.asarray(coarse, dtype=np.int16) + rng.integers(-12, 13, (size[1], size[0], 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)


def fastest(rounds: int, function, *args) -> float:
    """Fastest CPU time of ``rounds`` calls of ``function(*args)``."""
    times = []
    for _ in range(rounds):
        start = time.thread_time()
        function(*args)
        times.append(time.thread_time() - start)
    return min(times)


def decode_epoch(paths: list[Path], size: int, batch: int, order: np.ndarray) -> None:
    for start in range(0, len(order), batch):
        rows = order[start:start + batch]
        to_tensor(np.stack([load_image(paths[r], size) for r in rows]))


def cached_epoch(images: np.ndarray, batch: int, order: np.ndarray) -> None:
    for start in range(0, len(order), batch):
        to_tensor(images[np.sort(order[start:start + batch])])


def make_tree(root: Path, size: tuple[int, int], n: int) -> list[Path]:
    """An imagefolder tree with ``n`` training images (and one val/test image per class)."""
    paths = []
    for i in range(n):
        path = root / "train" / f"c{i % 2}" / f"{i:04d}.jpg"
        synthetic_jpeg(path, size, i)
        paths.append(path)
    for part in ("val", "test"):
        for c in range(2):
            synthetic_jpeg(root / part / f"c{c}" / "0.jpg", size, 10_000 + c)
    return paths


def train_step_time(model, optimizer, inputs, labels, rounds: int) -> float:
    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()

    step()
    return fastest(rounds, step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=64, help="training images per source size")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows, shares = [], []
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["LMF_DATA"] = str(Path(scratch) / "lmf_data")
        import timm

        model = timm.create_model("resnet10t", num_classes=2, pretrained=False)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        inputs = torch.rand(args.batch, 3, args.size, args.size)
        labels = torch.randint(0, 2, (args.batch,))
        step = train_step_time(model, optimizer, inputs, labels, args.rounds)
        for label, source_size in SOURCES.items():
            root = Path(scratch) / label.split()[0]
            paths = make_tree(root, source_size, args.images)
            order = rng.permutation(len(paths))
            start = time.perf_counter()
            data = prepare("imagefolder", root, size=args.size, workers=1, progress=False)
            build = time.perf_counter() - start
            images = data.part("train").images
            decoded = fastest(args.rounds, decode_epoch, paths, args.size, args.batch, order)
            cached = fastest(args.rounds, cached_epoch, images, args.batch, order)
            n = len(paths)
            rows.append((label, n / decoded, n / cached, decoded / cached, n / build))
            per_batch = args.batch / n
            shares.append((label, decoded * per_batch, cached * per_batch, step))
        digits = prepare("digits_lt", size=32, progress=False).part("train")
        small = timm.create_model("resnet10t", num_classes=10, pretrained=False)
        small_step = train_step_time(small, torch.optim.SGD(small.parameters(), lr=0.01),
                                     torch.rand(args.batch, 3, 32, 32),
                                     torch.randint(0, 10, (args.batch,)), args.rounds)
        order = rng.permutation(len(digits))
        per_batch = args.batch / len(digits)
        digits_loader = fastest(args.rounds, cached_epoch, digits.images, args.batch, order)
        shares.append(("digits_lt at 32 px (cpu profile)", None, digits_loader * per_batch,
                       small_step))
    print(f"Loader throughput, {args.size}×{args.size} output, batch {args.batch}, "
          f"{args.images} images, single process, one thread\n")
    print("| source JPEG | decode+resize img/s | cached img/s | speed-up | cache build img/s "
          "(1 thread, wall) |")
    print("|---|---:|---:|---:|---:|")
    for label, slow, fast, ratio, build in rows:
        print(f"| {label} | {slow:.0f} | {fast:.0f} | {ratio:.0f}× | {build:.0f} |")
    print(f"\nLoader share of a CPU training step (resnet10t, batch {args.batch}, "
          f"{args.size} px unless stated; step = forward + backward + SGD)\n")
    print("| source JPEG | step ms | decode loader ms (share) | cached loader ms (share) |")
    print("|---|---:|---:|---:|")
    for label, slow, fast, step in shares:
        decode = "—" if slow is None else f"{1000 * slow:.0f} ({slow / (slow + step):.0%})"
        print(f"| {label} | {1000 * step:.0f} | {decode} "
              f"| {1000 * fast:.2f} ({fast / (fast + step):.1%}) |")


if __name__ == "__main__":
    main()
