"""The ``slurm`` launcher against a real single-node SLURM cluster (no mocks).

``scripts/slurm_cluster.sh`` (through the ``slurm_cluster`` fixture of ``tests/conftest.py``)
installs Debian's slurm-wlm, munge, slurmdbd and MariaDB when they are missing, starts a private
cluster under a temporary directory and stops only what it started.
"""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np
import pytest

from lmf.core import runs
from lmf.core.errors import RunError
from lmf.sweep import ensure

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def test_slurm_runs_match_local_runs(slurm_cluster, tiny_grid, tmp_path):
    grid = tiny_grid(2, epochs=2)
    on_slurm = ensure(grid, launcher="slurm", results=tmp_path / "slurm", jobs=2, cpus=1)
    local = ensure(grid, launcher="local", results=tmp_path / "local")
    assert sorted(on_slurm["run_id"]) == sorted(local["run_id"]) == sorted(c.run_id for c in grid)
    metrics = [c for c in local.columns if c.startswith(("val_", "test_"))]
    assert (on_slurm.set_index("run_id")[metrics] == local.set_index("run_id")[metrics]).all().all()
    for config in grid:
        np.testing.assert_array_equal(
            runs.load_predictions(runs.run_dir(config.identity(), tmp_path / "slurm"))["logits"],
            runs.load_predictions(runs.run_dir(config.identity(), tmp_path / "local"))["logits"])
    accounted = subprocess.run(["sacct", "-n", "-X", "-o", "State"], capture_output=True, text=True)
    assert accounted.stdout.split().count("COMPLETED") >= 2


def test_cancelled_job_is_reported_and_rerun(slurm_cluster, tiny_grid, tmp_path):
    config = tiny_grid(1, epochs=4)[0]
    results = tmp_path / "results"
    raised: list[BaseException] = []

    def sweep():
        try:
            ensure([config], launcher="slurm", results=results)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            raised.append(error)

    thread = threading.Thread(target=sweep)
    thread.start()
    job = ""
    deadline = time.monotonic() + 60
    while not job and time.monotonic() < deadline:
        job = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True).stdout.strip()
        time.sleep(0.1)
    subprocess.run(["scancel", job.split()[0]], check=True)
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert len(raised) == 1 and isinstance(raised[0], RunError)
    assert config.run_id in str(raised[0]) and "ended without a result" in str(raised[0])
    assert not runs.is_done(runs.run_dir(config.identity(), results))
    frame = ensure([config], launcher="slurm", results=results)
    assert list(frame["run_id"]) == [config.run_id]
