"""Launcher options: SLURM options from a YAML file and the command line map onto submitit's
parameters; the local launcher's worker count."""

from __future__ import annotations

import pytest

import lmf.core.machine
from lmf.core.errors import ConfigError
from lmf.sweep.launchers import get_launcher, local_workers, slurm_parameters


def test_yaml_options_and_command_line_overrides(tmp_path):
    config = tmp_path / "slurm.yaml"
    config.write_text("partition: gpu\ngpus: 1\nmem: 32\ntime: 720\narray_parallelism: 20\n")
    assert slurm_parameters(config, time=60, cpus=8, partition=None) == {
        "slurm_partition": "gpu", "gpus_per_node": 1, "mem_gb": 32, "timeout_min": 60,
        "slurm_array_parallelism": 20, "cpus_per_task": 8}


def test_unknown_options_and_launchers_are_named(tmp_path):
    (tmp_path / "bad.yaml").write_text("qos: high\n")
    with pytest.raises(ConfigError, match="unknown SLURM option.*qos.*valid: partition"):
        slurm_parameters(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="valid choices: dry, local, slurm, submitit-local"):
        get_launcher("pbs")


def test_local_worker_count(monkeypatch):
    monkeypatch.setattr(lmf.core.machine, "usable_cores", lambda: 8)
    one_thread, two_threads = [{"threads": 1}] * 3, [{"threads": 1}, {"threads": 2}]
    assert local_workers(one_thread, jobs=3, gpus=0) == 3  # given: taken as it is
    assert local_workers(one_thread, jobs=0, gpus=0) == 1
    assert local_workers(one_thread, jobs=None, gpus=0) == 8  # fill the CPU cores
    assert local_workers(two_threads, jobs=None, gpus=0) == 4  # cores // threads per run
    assert local_workers(one_thread, jobs=None, gpus=1) == 1  # one GPU: one run at a time
    assert local_workers(one_thread, jobs=3, gpus=4, runs_per_gpu=2) == 8  # one per GPU slot
