"""Launchers: how the missing runs of a grid get executed.

Every launcher is ``launch(tasks, results, *, jobs, report, **options) -> list[outcome]`` where a
task is a config as plain data and an outcome is :func:`lmf.sweep.worker.run_one`'s dict, in the
order of ``tasks``; ``report(task, outcome)`` is called as each run ends (in the order they end;
:class:`lmf.sweep.progress.SweepProgress`).

==============  ==================================================================================
local           in this process when ``jobs == 1``; else ``jobs`` worker processes (``None``:
                one per usable CPU core without a GPU). With several GPUs visible, one worker
                per GPU times ``runs_per_gpu`` (each pinned through ``CUDA_VISIBLE_DEVICES``)
submitit-local  submitit's local executor (``cluster="local"``), one job per run
slurm           submitit job arrays on SLURM (``cluster="slurm"``; ``map_array``), options or a
                YAML file: partition, time (minutes), gpus, cpus, mem (GB), array_parallelism
dry             prints the plan, trains nothing
==============  ==================================================================================
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing.managers import SyncManager
from pathlib import Path

from lmf import tasks
from lmf.core import machine
from lmf.core.errors import ConfigError, unknown_choice
from lmf.core.runs import run_id
from lmf.sweep.parent import die_with_parent
from lmf.sweep.worker import log_path, run_one

#: SLURM options and the submitit parameter each becomes.
SLURM_OPTIONS = {
    "partition": "slurm_partition",
    "time": "timeout_min",
    "gpus": "gpus_per_node",
    "cpus": "cpus_per_task",
    "mem": "mem_gb",
    "array_parallelism": "slurm_array_parallelism",
}


def _no_report(task, outcome):
    return outcome


def launch_local(tasks, results, *, jobs=1, report=_no_report, runs_per_gpu=1, **options):
    _no_options("local", options)
    gpus = _gpu_count()
    workers = local_workers(tasks, jobs, gpus, runs_per_gpu)
    if workers == 1 or len(tasks) == 1:
        return [report(task, run_one(task, str(results))) for task in tasks]
    context = multiprocessing.get_context("spawn")
    slots = None
    if gpus > 1:
        manager = SyncManager(ctx=context)
        manager.start(die_with_parent, (os.getpid(),))
        slots = manager.Queue()
        for slot in range(workers):
            slots.put(slot % gpus)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(os.getpid(), slots)) as pool:
        futures = {pool.submit(run_one, task, str(results)): task for task in tasks}
        for future in as_completed(futures):
            report(futures[future], future.result())
        return [future.result() for future in futures]


def local_workers(tasks, jobs, gpus, runs_per_gpu=1) -> int:
    """How many runs the local launcher trains at once.

    With several GPUs: one worker per GPU times ``runs_per_gpu``. Otherwise ``jobs``; ``None``
    means "fill the machine": one worker with one GPU, and without a GPU as many as the usable CPU
    cores hold runs of ``threads`` threads each (``lmf.classification.config.RunConfig.threads``).
    """
    if gpus > 1:
        return gpus * max(1, runs_per_gpu)
    if jobs is not None:
        return max(1, jobs)
    if gpus:
        return 1
    threads = max((task["threads"] for task in tasks), default=1)
    return max(1, machine.usable_cores() // threads)


def launch_submitit(tasks, results, *, jobs=1, report=_no_report, cluster="local",
                    slurm_config=None, folder=None, **options):
    """Submit one job per run as a submitit job array and wait for all of them."""
    import submitit

    folder = Path(folder) if folder else Path(results) / "submitit"
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    parameters = {"timeout_min": 24 * 60}
    if jobs is not None:  # None: as many at once as the scheduler allows
        parameters["slurm_array_parallelism"] = max(1, jobs)
    if cluster == "slurm":
        parameters.update(slurm_parameters(slurm_config, **options))
    elif options:
        _no_options(cluster, options)
    executor.update_parameters(**{k: v for k, v in parameters.items()
                                  if cluster == "slurm" or not k.startswith("slurm_")})
    submitted = executor.map_array(run_one, tasks, [str(results)] * len(tasks))
    print(f"submitted {len(submitted)} job(s): {', '.join(j.job_id for j in submitted)}",
          flush=True)
    task_of = {job.job_id: task for job, task in zip(submitted, tasks, strict=True)}
    outcomes = {}
    for job in submitit.helpers.as_completed(submitted, poll_frequency=2):
        task = task_of[job.job_id]
        try:
            outcome = job.result()
        except Exception as error:  # cancelled, timed out, node failure: the job never returned
            outcome = _lost_job(task, results, job, error)
        outcomes[job.job_id] = report(task, outcome)
    return [outcomes[job.job_id] for job in submitted]


def launch_slurm(tasks, results, **options):
    return launch_submitit(tasks, results, cluster="slurm", **options)


def launch_dry(tasks, results, *, done=(), **options):
    print(f"plan for {results}: {len(tasks)} to run, {len(done)} done")
    for task in tasks:
        print(f"  run   {task_identity(task)[0]}")
    for config in done:
        print(f"  done  {run_id(config.identity())}")
    return []


LAUNCHERS = {
    "local": launch_local,
    "submitit-local": launch_submitit,
    "slurm": launch_slurm,
    "dry": launch_dry,
}


def get_launcher(name: str):
    if name not in LAUNCHERS:
        raise unknown_choice("launcher", name, LAUNCHERS)
    return LAUNCHERS[name]


def slurm_parameters(slurm_config=None, **options) -> dict:
    """submitit parameters from a YAML file (keys as in :data:`SLURM_OPTIONS`) and options;
    options given (not None) win over the file."""
    values = {}
    if slurm_config:
        import yaml

        values = yaml.safe_load(Path(slurm_config).read_text()) or {}
    values.update({k: v for k, v in options.items() if v is not None})
    unknown = sorted(set(values) - set(SLURM_OPTIONS))
    if unknown:
        raise ConfigError(f"unknown SLURM option(s) {', '.join(unknown)}; "
                          f"valid: {', '.join(SLURM_OPTIONS)}")
    return {SLURM_OPTIONS[k]: v for k, v in values.items()}


def task_identity(task: dict) -> tuple[str, dict]:
    """The run id and identity of a task (a config as plain data)."""
    identity = tasks.config_from_dict(task).identity()
    return run_id(identity), identity


def _lost_job(task, results, job, error) -> dict:
    name, identity = task_identity(task)
    return {"run_id": name, "ok": False, "log": str(log_path(identity, results)),
            "error": f"job {job.job_id} ended without a result ({job.state}, "
                     f"{type(error).__name__}); submitit output in {job.paths.stderr}"}


def _start_worker(parent_pid: int, slots) -> None:
    """Set up a local worker: it ends with the sweep, and takes a GPU slot when there are any."""
    die_with_parent(parent_pid)
    if slots is not None:
        _pin_gpu(slots)


def _pin_gpu(slots) -> None:
    os.environ["CUDA_VISIBLE_DEVICES"] = str(slots.get())


def _gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _no_options(launcher: str, options: dict) -> None:
    given = sorted(k for k, v in options.items() if v is not None)
    if given:
        raise ConfigError(f"launcher {launcher!r} takes no option(s) {', '.join(given)}; "
                          "they are SLURM options (use --launcher slurm)")
