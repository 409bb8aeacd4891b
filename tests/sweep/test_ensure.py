"""ensure / launchers on the local machine: skip done runs, isolate failures, survive SIGKILL."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lmf.classification.train import fit
from lmf.cli import main
from lmf.core import runs
from lmf.core.errors import ConfigError, RunError
from lmf.sweep import ensure, status

pytestmark = pytest.mark.slow


def test_ensure_trains_missing_then_returns_only_this_grid(results, tiny_grid):
    grid = tiny_grid(2)
    first = ensure(grid[:1], results=results)
    assert len(first) == 1
    stamp = (runs.run_dir(grid[0].identity(), results) / runs.DONE).stat().st_mtime_ns
    frame = ensure(grid, results=results)
    assert sorted(frame["run_id"]) == sorted(c.run_id for c in grid)
    assert (runs.run_dir(grid[0].identity(), results) / runs.DONE).stat().st_mtime_ns == stamp  # not retrained
    assert list(ensure(grid[1:], results=results)["run_id"]) == [grid[1].run_id]
    start = time.perf_counter()
    ensure(grid, results=results)
    assert time.perf_counter() - start < 2.0
    assert status(grid, results=results) == {"done": 2, "running": 0, "missing": 0, "total": 2}
    for config in grid:
        assert (results / "logs" / f"{config.run_id}.log").read_text().count("== done") == 1


def test_data_that_cannot_be_read_stops_the_grid_before_any_training(results, tiny_grid):
    good = tiny_grid(2)
    bad_data = dataclasses.replace(good[0], data_root="/no/such/root")
    with pytest.raises(ConfigError, match="takes no root folder"):
        ensure([good[0], bad_data, good[1]], results=results)
    assert not results.exists() or not [p for p in results.iterdir() if p.name != "logs"]


def test_failures_are_reported_and_do_not_stop_the_others(results, capsys, tiny_grid):
    good = tiny_grid(3)
    diverging = [dataclasses.replace(good[1], lr=1e30), dataclasses.replace(good[2], lr=1e31)]
    with pytest.raises(RunError) as caught:
        ensure([diverging[0], good[0], diverging[1], good[1]], results=results)
    message = str(caught.value)
    assert "2 of 4 run(s) failed" in message
    for config in diverging:
        assert config.run_id in message and "non-finite" in message
        log = results / "logs" / f"{config.run_id}.log"
        assert str(log) in message and "Traceback" in log.read_text()
        assert not runs.is_done(runs.run_dir(config.identity(), results))
    assert all(runs.is_done(runs.run_dir(c.identity(), results)) for c in good[:2])
    assert "FAILED" in capsys.readouterr().out
    assert status([diverging[0], *good[:2]], results=results)["missing"] == 1


def test_parallel_local_workers_match_a_run_alone(results, tmp_path, tiny_grid):
    grid = tiny_grid(2)
    frame = ensure(grid, results=results, jobs=2).set_index("run_id")
    for config in grid:
        alone = fit(config, tmp_path / "alone", quiet=True).metrics
        assert frame.loc[config.run_id, "test_macro_f1"] == alone["test"]["macro_f1"]
        np.testing.assert_array_equal(
            runs.load_predictions(runs.run_dir(config.identity(), results))["logits"],
            runs.load_predictions(runs.run_dir(config.identity(), tmp_path / "alone"))["logits"])


def test_sigkilled_sweep_resumes_to_exactly_one_complete_run_per_config(results, tmp_path, tiny_grid):
    grid = tiny_grid(3, epochs=3)
    script = ("import json, sys; from lmf.classification.train import RunConfig; from lmf.sweep import ensure; "
              "ensure([RunConfig.from_dict(c) for c in json.loads(sys.argv[1])], results=sys.argv[2])")
    payload = json.dumps([c.to_dict() for c in grid])
    sweep = subprocess.Popen([sys.executable, "-c", script, payload, str(results)],
                             start_new_session=True)
    second = runs.run_dir(grid[1].identity(), results) / runs.HISTORY
    deadline = time.monotonic() + 120
    while not second.is_file() and time.monotonic() < deadline:  # killed inside run 2
        time.sleep(0.05)
    os.killpg(sweep.pid, signal.SIGKILL)
    sweep.wait()
    assert second.is_file(), "the sweep never reached its second run"
    assert not runs.is_done(runs.run_dir(grid[2].identity(), results))
    frame = ensure(grid, results=results).set_index("run_id")
    assert len(frame) == 3 and len(runs.load_runs(results)) == 3
    for config in grid:
        alone = fit(config, tmp_path / "alone", quiet=True)
        history = runs.load_history(runs.run_dir(config.identity(), results))
        assert list(history["epoch"]) == [0, 1, 2]
        assert frame.loc[config.run_id, "test_accuracy"] == alone.metrics["test"]["accuracy"]
        np.testing.assert_array_equal(
            runs.load_predictions(runs.run_dir(config.identity(), results))["logits"],
            runs.load_predictions(alone.run_dir)["logits"])


def test_dry_launcher_prints_the_plan_and_trains_nothing(results, capsys, tiny_grid):
    grid = tiny_grid(3)
    ensure(grid[:1], results=results)
    capsys.readouterr()
    assert len(ensure(grid, launcher="dry", results=results)) == 1
    out = capsys.readouterr().out
    assert "2 to run, 1 done" in out
    assert f"done  {grid[0].run_id}" in out
    assert all(f"run   {c.run_id}" in out for c in grid[1:])
    assert not runs.run_dir(grid[1].identity(), results).exists()


def test_cli_runs_and_reports_status(results, capsys, tiny_grid):
    assert main(["sweep", "paper", "--launcher", "dry", "--results", str(results)]) == 0
    assert "15 to run, 0 done" in capsys.readouterr().out
    assert main(["sweep", "status", "hparams", "--results", str(results)]) == 0
    assert capsys.readouterr().out.strip() == "done=0 running=0 missing=7 total=7"
    assert main(["sweep", "paper", "--launcher", "local", "--partition", "gpu",
                 "--results", str(results)]) == 2
    assert "SLURM options" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="launcher"):
        ensure(tiny_grid(1), launcher="pbs", results=results)


def test_submitit_local_launcher_trains_the_same_run(results, tmp_path, tiny_grid):
    config = tiny_grid(1)[0]
    frame = ensure([config], launcher="submitit-local", results=results)
    alone = fit(config, tmp_path / "alone", quiet=True)
    assert frame.loc[0, "test_macro_f1"] == alone.metrics["test"]["macro_f1"]
    assert (results / "submitit").is_dir()
