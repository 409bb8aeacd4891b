"""Overhead of ``lmf.classification.train.fit`` over a bare PyTorch loop doing the same work.

Both train the cpu profile's ResNet stand-in on digits-LT (images already in memory, batch 32,
Adam, StepLR), evaluate on the validation split after every epoch and once on test. ``fit`` also
writes ``last.pt``/``best.pt``/``history.csv`` every epoch, computes the metrics and keeps the run
resumable; the goal is at most 5 % more time. Each side runs ``REPEATS`` times, alternating, and
the fastest run counts. Prints a Markdown table.
"""

from __future__ import annotations

import tempfile
import time

import torch
import torch.nn.functional as F

from lmf.classification.models import build_model
from lmf.classification.profiles import get_profile
from lmf.classification.train import fit
from lmf.data import prepare, to_tensor
from lmf.losses import build_loss

EPOCHS, REPEATS = 6, 3
#: fit trains with ``threads`` intra-op threads; the bare loop with this process's count: the same
CONFIG = get_profile("cpu").config("digits_lt", "resnet50", "cce", epochs=EPOCHS,
                                threads=torch.get_num_threads())


def time_fit() -> float:
    with tempfile.TemporaryDirectory() as results:
        start = time.perf_counter()
        fit(CONFIG, results=results, quiet=True)
        return time.perf_counter() - start


def time_bare_loop() -> float:
    """The same training as ``fit`` written as the plainest PyTorch loop."""
    start = time.perf_counter()
    data = prepare(CONFIG.dataset, size=CONFIG.image_size)
    parts = {name: data.part(name) for name in ("train", "val", "test")}
    images = {n: torch.from_numpy(p.images.copy()) for n, p in parts.items()}
    labels = {n: torch.from_numpy(p.labels.copy()) for n, p in parts.items()}
    torch.manual_seed(CONFIG.seed)
    model = build_model(CONFIG.model, data.num_classes)
    criterion = build_loss(CONFIG.loss, data.class_counts("train"))
    optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG.lr, weight_decay=CONFIG.weight_decay)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, CONFIG.lr_step, CONFIG.lr_gamma)
    generator = torch.Generator().manual_seed(CONFIG.seed)
    for _ in range(EPOCHS):
        model.train()
        for index in torch.randperm(len(labels["train"]), generator=generator).split(32):
            loss = criterion(model(to_tensor(images["train"][index])), labels["train"][index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        evaluate(model, images["val"], labels["val"])
    evaluate(model, images["test"], labels["test"])
    return time.perf_counter() - start


@torch.inference_mode()
def evaluate(model, images, labels) -> float:
    model.eval()
    logits = torch.cat([model(to_tensor(chunk)) for chunk in images.split(256)])
    return float(F.cross_entropy(logits, labels))


def main() -> None:
    steps = EPOCHS * -(-len(prepare(CONFIG.dataset, size=CONFIG.image_size).part("train")) // 32)
    fit_times, bare_times = [], []
    for _ in range(REPEATS):
        fit_times.append(time_fit())
        bare_times.append(time_bare_loop())
    fit_best, bare_best = min(fit_times), min(bare_times)
    print(f"{CONFIG.model}, {CONFIG.image_size} px, {EPOCHS} epochs ({steps} training steps), "
          f"{torch.get_num_threads()} threads, best of {REPEATS}\n")
    print("| loop | seconds | steps/s | overhead |")
    print("|---|---:|---:|---:|")
    print(f"| bare PyTorch | {bare_best:.2f} | {steps / bare_best:.1f} | — |")
    print(f"| lmf.classification.train.fit | {fit_best:.2f} | {steps / fit_best:.1f} | "
          f"{100 * (fit_best / bare_best - 1):+.1f} % |")


if __name__ == "__main__":
    main()
