"""Sweep overheads: local CPU grid wall time, SLURM start-up and per-job overhead.

    python benchmarks/bench_sweep.py [--runs 3] [--no-slurm]

Trains ``--runs`` tiny configs of the cpu paper grid (1 epoch, 16 px) with the ``local`` launcher
and, as root, with the ``slurm`` launcher on a private cluster (``scripts/slurm_cluster.sh``), one
job at a time, so the difference per run is the scheduler's overhead. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

from lmf.core.paths import repo_root
from lmf.sweep import build_grid, ensure

SCRIPT = repo_root() / "scripts" / "slurm_cluster.sh"


def timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-slurm", action="store_true")
    args = parser.parse_args()
    grid = build_grid("paper", "cpu", epochs=1, image_size=16)[: args.runs]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        local = timed(ensure, grid, results=tmp / "local")
        rows.append((f"local, {len(grid)} runs, 1 worker", local))
        rows.append(("finished grid again (trains nothing)", timed(ensure, grid, results=tmp / "local")))
        if not args.no_slurm and os.geteuid() == 0:
            started = timed(subprocess.run, [str(SCRIPT), "start", str(tmp / "cluster")], check=True,
                            capture_output=True)
            os.environ["SLURM_CONF"] = str(tmp / "cluster" / "slurm.conf")
            try:
                rows.append(("SLURM cluster start-up (packages installed)", started))
                slurm = timed(ensure, grid, launcher="slurm", results=tmp / "slurm", jobs=1)
                rows.append((f"slurm, {len(grid)} runs, array parallelism 1", slurm))
                rows.append(("slurm overhead per job", (slurm - local) / len(grid)))
            finally:
                subprocess.run([str(SCRIPT), "stop", str(tmp / "cluster")], check=True)
    print("| measurement | seconds |\n|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
