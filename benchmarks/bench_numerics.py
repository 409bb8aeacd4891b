"""What the pinned CPU numerics cost: one cpu-profile run with the pinned AVX2 kernels against the
same run with the machine's native kernels (``LMF_NUMERICS=native``).

Each variant trains in a fresh process (the kernels are chosen when the libraries load) into a
temporary run store, ``ROUNDS`` times interleaved; the fastest wall time of each is kept. The
runs are the cpu profile's first dataset, model and loss for ``--epochs`` epochs (default 4),
one thread, as every run of the profile trains.

    python benchmarks/bench_numerics.py [--epochs 4] [--rounds 3] [--model MODEL_ID]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

TRAIN = """
import json, sys, time
import lmf
from lmf.core.numerics import pinned
from lmf.classification.profiles import get_profile
from lmf.classification.train import fit
profile = get_profile("cpu")
model = sys.argv[3] or next(iter(profile.models))
config = profile.config(next(iter(profile.datasets)), model, "lmf", epochs=int(sys.argv[2]))
fit(config, results=sys.argv[1], quiet=True)  # data cache and imports warmed
start = time.perf_counter()
result = fit(config.__class__.from_dict({**config.to_dict(), "seed": 24}), results=sys.argv[1],
             quiet=True)
print(json.dumps({"seconds": time.perf_counter() - start, "pinned": pinned(),
                  "macro_f1": result.metrics["test"]["macro_f1"]}))
"""


def one_run(native: bool, epochs: int, model: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "LMF_NUMERICS"}
    if native:
        env["LMF_NUMERICS"] = "native"
    with tempfile.TemporaryDirectory() as store:
        done = subprocess.run([sys.executable, "-W", "ignore", "-c", TRAIN, store, str(epochs),
                               model], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="", help="model id of the cpu profile (default: its first)")
    args = parser.parse_args()
    best = {}
    for _ in range(args.rounds):
        for native in (False, True):
            run = one_run(native, args.epochs, args.model)
            key = "native" if native else "pinned"
            if key not in best or run["seconds"] < best[key]["seconds"]:
                best[key] = run
    print(f"| kernels | wall s (best of {args.rounds}) | test macro-F1 |")
    print("|---|---:|---:|")
    for key in ("native", "pinned"):
        print(f"| {key} | {best[key]['seconds']:.2f} | {best[key]['macro_f1']:.4f} |")
    print(f"\npinned / native: {best['pinned']['seconds'] / best['native']['seconds']:.2f}x")


if __name__ == "__main__":
    main()
