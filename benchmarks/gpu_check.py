"""GPU check: lmf's training path against a bare PyTorch loop on one GPU, and the CUDA-only tests.

For each of the paper's models (``--models``, default all three) the configuration of one paper
run (``get_profile("paper").config(DATASET, MODEL, LOSS)``: Adam with weight decay, the
loss with its published parameters, LMF's (α, β) from Table 6, the dataset's training class
counts, bf16 autocast and channels-last on CUDA) trains for ``--steps`` timed steps on a fixed
random batch, in two modes: ``eager`` and ``compiled`` (``torch.compile``). The batch is uint8
N×H×W×3 on the device, converted by ``lmf.data.to_tensor`` as ``lmf.classification.train`` does with a split
kept on the GPU. Weights are ImageNet's when they are in the local cache, else random (speed is
the same).

``lmf.classification.train`` runs whole epochs (evaluation and checkpoints included) and exposes no single
step, so the lmf side is the step its training loop performs, built from lmf's parts as
``lmf bench`` builds its models: ``build_model``, ``build_loss``, ``to_tensor``, the config's
optimiser and speed options. The bare side is ``lmf.core.throughput.bare_training_step`` on the same
architecture (float images already on the device, ``F.cross_entropy``, Adam, the same autocast,
memory format and mode). Both print images/s and peak memory (``torch.cuda.max_memory_allocated``,
reset per measurement) side by side with the ratio lmf/bare. Compilation is timed separately
(the first compiled step minus the first eager one) and set against the speed it buys: it pays
when it is recovered within one paper run (``epochs`` × steps per epoch).

Then ``pytest -m cuda`` runs the tests that need CUDA (skipped elsewhere) and reports pass/fail.
Results go to ``--json`` (default ``results/gpu_check.json``) for ``benchmarks/README.md``.

Without CUDA it prints that nothing was measured and exits 0; ``--allow-cpu`` runs a smoke test
of the script on the CPU (choose tiny settings: ``--profile cpu`` takes the cpu profile's small
stand-ins for the models). The exit status is 1 when a CUDA test fails, else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import math
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import torch

from lmf.classification.models import build_model, weights_cached
from lmf.classification.paper import PAPER_DATASETS, PAPER_MODELS, split_counts
from lmf.classification.profiles import PROFILES, get_profile
from lmf.classification.train import RunConfig
from lmf.core.paths import repo_root, results_dir
from lmf.core.throughput import Timing, bare_training_step, time_steps
from lmf.data import to_tensor
from lmf.losses import LOSSES, build_loss

MODES = ("eager", "compiled")
NO_GPU = ("gpu_check: no GPU (CUDA) is present on this machine; nothing was measured. "
          "Run it on a GPU machine, or pass --allow-cpu for a smoke run of the script.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(PAPER_MODELS), choices=PAPER_MODELS)
    parser.add_argument("--profile", default="paper", choices=sorted(PROFILES),
                        help="whose architectures play the models (cpu: small timm stand-ins)")
    parser.add_argument("--dataset", default="ham10000", choices=PAPER_DATASETS,
                        help="the paper run's dataset (class counts, LMF's α and β)")
    parser.add_argument("--loss", default="lmf", choices=LOSSES)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--steps", type=int, default=200, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--tests", nargs="*", default=["tests"], metavar="PATH",
                        help="where pytest looks for CUDA tests (none: skip the tests)")
    parser.add_argument("--json", type=Path, default=results_dir() / "gpu_check.json",
                        help="where the results go (default: %(default)s)")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="without CUDA, measure on the CPU (a smoke run of this script)")
    return parser.parse_args(argv)


def paper_run(model_id: str, args: argparse.Namespace) -> RunConfig:
    """The paper's run of ``model_id`` on ``args.dataset``, with the profile's architecture."""
    arch = get_profile(args.profile).models[model_id]
    return get_profile("paper").config(
        args.dataset, model_id, args.loss, model=arch, pretrained=weights_cached(arch),
        batch_size=args.batch_size, image_size=args.image_size,
        device="cuda" if torch.cuda.is_available() else "cpu",
    )


def train_counts(dataset: str) -> np.ndarray:
    """Training images per class of the paper's split, in sorted class order."""
    table = split_counts()
    return table[table.dataset == dataset].sort_values("class")["train"].to_numpy()


def lmf_step(config: RunConfig, counts: np.ndarray, compile: bool):
    """One training step of ``lmf.classification.train`` for ``config`` on a fixed random uint8 batch."""
    device = torch.device(config.device)
    cuda = device.type == "cuda"
    memory_format = torch.channels_last if config.channels_last and cuda else torch.contiguous_format
    model = build_model(config.model, len(counts), pretrained=config.pretrained)
    model = model.to(device, memory_format=memory_format).train()
    net = torch.compile(model) if compile else model
    criterion = build_loss(config.loss, counts, **config.loss_params).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    size = config.image_size
    images = torch.randint(0, 256, (config.batch_size, size, size, 3), dtype=torch.uint8,
                           device=device)
    labels = torch.randint(0, len(counts), (config.batch_size,), device=device)

    def step() -> torch.Tensor:
        inputs = to_tensor(images, normalize=config.normalize).contiguous(memory_format=memory_format)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp and cuda):
            logits = net(inputs)
        loss = criterion(logits.float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def bare_step(config: RunConfig, counts: np.ndarray, compile: bool):
    """The bare PyTorch step on the same architecture and settings."""
    device = torch.device(config.device)
    cuda = device.type == "cuda"
    model = build_model(config.model, len(counts), pretrained=config.pretrained)
    return bare_training_step(model, device, config.batch_size, config.image_size, len(counts),
                              bf16=config.amp and cuda, channels_last=config.channels_last and cuda,
                              compile=compile, lr=config.lr)


def measure(build, config: RunConfig, counts: np.ndarray, mode: str,
            args: argparse.Namespace) -> Timing:
    """Time one freshly built step, then free its model, optimiser and compiled graphs."""
    torch.manual_seed(config.seed)
    step = build(config, counts, compile=mode == "compiled")
    timing = time_steps(step, torch.device(config.device), args.steps, config.batch_size,
                        args.warmup)
    del step
    torch._dynamo.reset()
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return timing


def timing_dict(timing: Timing) -> dict:
    peak = timing.peak_memory_bytes
    return {"images_per_second": timing.images_per_second, "step_ms": 1e3 * timing.step_seconds,
            "first_step_s": timing.first_step_s,
            "peak_memory_gib": None if peak is None else peak / 2**30}


def compile_verdict(lmf: dict, config: RunConfig, counts: np.ndarray) -> dict:
    """Compile time, speed-up and the steps after which compiling has paid for itself."""
    eager, compiled = lmf["eager"], lmf["compiled"]
    seconds = max(compiled["first_step_s"] - eager["first_step_s"], 0.0)
    saved_per_step = (eager["step_ms"] - compiled["step_ms"]) / 1e3
    break_even = math.ceil(seconds / saved_per_step) if saved_per_step > 0 else None
    run_steps = config.epochs * math.ceil(int(counts.sum()) / config.batch_size)
    return {"seconds": seconds, "speedup": compiled["images_per_second"] / eager["images_per_second"],
            "break_even_steps": break_even, "paper_run_steps": run_steps,
            "pays": break_even is not None and break_even <= run_steps}


@contextlib.contextmanager
def cpu_threads(count: int):
    """``count`` intra-op CPU threads inside the block, the previous count after it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def check_model(model_id: str, args: argparse.Namespace) -> dict:
    """Both sides in every mode; on the CPU with the run's thread count, as ``lmf.classification.train``."""
    config, counts = paper_run(model_id, args), train_counts(args.dataset)
    row = {"model_id": model_id, "arch": config.model, "pretrained": config.pretrained,
           "loss_params": config.loss_params, "lmf": {}, "bare": {}, "ratio": {}}
    with cpu_threads(config.threads) if config.device == "cpu" else contextlib.nullcontext():
        for mode in args.modes:
            row["lmf"][mode] = timing_dict(measure(lmf_step, config, counts, mode, args))
            row["bare"][mode] = timing_dict(measure(bare_step, config, counts, mode, args))
            row["ratio"][mode] = (row["lmf"][mode]["images_per_second"]
                                  / row["bare"][mode]["images_per_second"])
    if set(MODES) <= set(args.modes):
        row["compile"] = compile_verdict(row["lmf"], config, counts)
    return row


def run_cuda_tests(paths: list[str]) -> dict:
    """``pytest -m cuda PATHS``: counts of passed, failed and skipped tests, failed test ids."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        shown = ["pytest", "-m", "cuda", *paths]
        command = [sys.executable, "-m", *shown, "-q", "-p", "no:cacheprovider",
                   f"--junitxml={report}"]
        result = subprocess.run(command, cwd=repo_root(), capture_output=True, text=True)
        if not report.is_file():
            return {"command": " ".join(shown), "returncode": result.returncode,
                    "passed": 0, "failed": 0, "skipped": 0, "failures": [],
                    "error": result.stdout[-2000:] + result.stderr[-2000:]}
        suite = ET.parse(report).getroot()
        suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    failures = [f"{case.get('classname')}::{case.get('name')}" for case in suite.iter("testcase")
                if case.find("failure") is not None or case.find("error") is not None]
    skipped = int(suite.get("skipped", 0))
    return {"command": " ".join(shown), "returncode": result.returncode,
            "passed": int(suite.get("tests", 0)) - len(failures) - skipped,
            "failed": len(failures), "skipped": skipped, "failures": failures}


def print_table(rows: list[dict]) -> None:
    print("| model | mode | lmf img/s | bare img/s | lmf/bare | lmf peak GiB | bare peak GiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        for mode, ratio in row["ratio"].items():
            lmf, bare = row["lmf"][mode], row["bare"][mode]
            print(f"| {row['arch']} | {mode} | {lmf['images_per_second']:,.1f} | "
                  f"{bare['images_per_second']:,.1f} | {ratio:.3f} | {gib(lmf)} | {gib(bare)} |")
    for row in rows:
        if verdict := row.get("compile"):
            steps = verdict["break_even_steps"]
            print(f"\n{row['arch']}: compiling takes {verdict['seconds']:.1f} s and speeds lmf's "
                  f"step up {verdict['speedup']:.2f}×; it pays back after "
                  f"{'never' if steps is None else f'{steps:,} steps'} (a paper run has "
                  f"{verdict['paper_run_steps']:,}): {'pays' if verdict['pays'] else 'does not pay'}")


def gib(timing: dict) -> str:
    return "—" if timing["peak_memory_gib"] is None else f"{timing['peak_memory_gib']:.2f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not args.allow_cpu:
        print(NO_GPU)
        return 0
    device_name = torch.cuda.get_device_name() if cuda else "CPU (smoke run, --allow-cpu)"
    print(f"{device_name}: {args.loss} on {args.dataset}, batch {args.batch_size}, "
          f"{args.image_size} px, {args.steps} steps after {args.warmup} warm-up\n", flush=True)
    rows = [check_model(model_id, args) for model_id in args.models]
    print_table(rows)
    tests = run_cuda_tests(args.tests) if args.tests else None
    if tests is not None:
        print(f"\nCUDA tests ({tests['command']}): {tests['passed']} passed, {tests['failed']} "
              f"failed, {tests['skipped']} skipped" + "".join(f"\n  FAILED {name}"
                                                          for name in tests["failures"]))
    results = {
        "device": device_name, "torch": torch.__version__, "cuda": torch.version.cuda,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "settings": {key: getattr(args, key) for key in
                     ("profile", "dataset", "loss", "modes", "steps", "warmup", "batch_size",
                      "image_size")},
        "models": rows, "tests": tests,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {args.json}")
    return 1 if tests is not None and (tests["failed"] or "error" in tests) else 0


if __name__ == "__main__":
    sys.exit(main())
