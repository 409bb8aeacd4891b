"""The paper profile's cluster path rehearsed on the real single-node SLURM cluster: notebook 06
submits Fig 4's grid (shrunk: 32 px, one epoch, α/β in {0.5, 1.0}) as a job array, then a plain
``lmf reproduce`` on the login node regenerates Fig 4 and Table 6 from the finished runs."""

from __future__ import annotations

import subprocess
import time

import pandas as pd
import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.notebook]

SHRUNK = ["-p", "EPOCHS=1", "-p", "IMAGE_SIZE=32", "-p", "GRID=[0.5, 1.0]"]


@pytest.mark.timeout(1200)
def test_fig4_grid_submitted_to_slurm_then_regenerated(slurm_cluster, tmp_path, rehearsal_env,
                                                        run_lmf_in):
    env = rehearsal_env(tmp_path)
    results = tmp_path / "results"
    reproduce = ["reproduce", "--profile", "paper", "--only", "06", "--results", str(results),
                 *SHRUNK]
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    submitted, seconds = run_lmf_in(env, tmp_path, *reproduce, "--launcher", "slurm")
    assert submitted.returncode == 0, submitted.stderr[-4000:]
    print(f"notebook 06 of the paper profile on SLURM: {seconds:.0f} s")
    done = {p.name: (p / "done").stat().st_mtime_ns for p in results.iterdir()
            if (p / "done").exists()}
    assert len(done) == 4  # (0.5, 0.5), (1, 0.5), (0.5, 1), (1, 1)
    jobs = subprocess.run(["sacct", "-n", "-X", "-S", since, "-o", "JobName%20,State"],
                          capture_output=True, text=True, env=env).stdout.splitlines()
    states = [line.split()[1] for line in jobs if line.split()[:1] == ["submitit"]]
    assert states == ["COMPLETED"] * 4, jobs
    figure = tmp_path / "figures" / "paper" / "fig4_hparam_settings.png"
    drawn = figure.stat().st_mtime_ns

    regenerated, _ = run_lmf_in(env, tmp_path, *reproduce)  # the notebook's own launcher, local
    assert regenerated.returncode == 0, regenerated.stderr[-4000:]
    assert {p.name: (p / "done").stat().st_mtime_ns for p in results.iterdir()
            if (p / "done").exists()} == done
    assert figure.stat().st_mtime_ns > drawn
    table6 = pd.read_csv(tmp_path / "figures" / "paper" / "table6_lmf_alpha_beta.csv")
    assert list(table6.settings_tried) == [4]
    assert {(a, b) for a, b in zip(table6.alpha, table6.beta, strict=True)} <= {
        (0.5, 0.5), (1.0, 0.5), (0.5, 1.0), (1.0, 1.0)}
