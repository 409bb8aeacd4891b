"""``ensure(grid)``: train what is missing, skip what is done, return the grid's finished runs.

Notebooks call this; ``lmf sweep`` is its command line. A finished grid costs one directory scan.
Failures are collected while the other runs go on; at the end a :class:`~lmf.core.errors.RunError`
lists each failed config with its error and log path (the run is not marked done, so the next
``ensure`` tries it again, resuming from its last finished epoch).
"""

from __future__ import annotations

import pandas as pd

from lmf.core import runs
from lmf.core.errors import RunError
from lmf.sweep.grids import build_grid
from lmf.sweep.launchers import get_launcher
from lmf.sweep.progress import SweepProgress


def resolve_grid(grid, profile="cpu", seeds=1, **overrides) -> list:
    """A grid name or an explicit list of RunConfig as a list of RunConfig."""
    return build_grid(grid, profile, seeds=seeds, **overrides) if isinstance(grid, str) else list(grid)


def ensure(grid, *, profile="cpu", launcher="local", results=None, jobs=1, seeds=1, quiet=False,
           **launcher_options) -> pd.DataFrame:
    """Train the missing runs of ``grid`` with ``launcher``; return their ``load_runs`` rows.

    Args:
        grid: a grid name of ``lmf.sweep.grids`` (built for ``profile`` and ``seeds``) or a list
            of ``lmf.classification.config.RunConfig`` or of ``lmf.seg.config.SegConfig`` (one task per grid).
        launcher: ``local``, ``submitit-local``, ``slurm`` or ``dry`` (see ``lmf.sweep.launchers``).
        results: run store (default ``lmf.core.paths.results_dir()``).
        jobs: parallel runs (local worker processes; array parallelism for submitit); ``None``
            fills the machine (see ``lmf.sweep.launchers.local_workers``) or, on SLURM, leaves
            it to the scheduler.
        quiet: no progress bar over the runs (failures and the ``LMF_PROGRESS`` lines of
            ``lmf.sweep.progress`` are reported all the same).
        launcher_options: e.g. ``runs_per_gpu`` (local); ``partition``, ``time``, ``gpus``,
            ``cpus``, ``mem``, ``array_parallelism``, ``slurm_config`` (slurm).

    Returns:
        One row per finished run of exactly this grid (columns of ``lmf.core.runs.load_runs``).

    Raises:
        RunError: after every other run finished, when some runs failed.
    """
    configs = resolve_grid(grid, profile, seeds)
    results = runs.root(results)
    ids = [runs.run_id(c.identity()) for c in configs]
    finished = [runs.is_done(results / name) for name in ids]
    done = [c for c, is_done in zip(configs, finished, strict=True) if is_done]
    missing = [runs.plain(c.to_dict()) for c, is_done in zip(configs, finished, strict=True)
               if not is_done]
    if launcher == "dry":
        get_launcher(launcher)(missing, results, jobs=jobs, done=done, **launcher_options)
    elif missing:
        progress = SweepProgress(len(configs), len(done), quiet=quiet)
        try:
            outcomes = get_launcher(launcher)(missing, results, jobs=jobs, report=progress,
                                              **launcher_options)
        finally:
            progress.close()
        failed = [o for o in outcomes if not o["ok"]]
        if failed:
            lines = "\n".join(f"  {o['run_id']}: {o['error']} (log: {o['log']})" for o in failed)
            raise RunError(f"{len(failed)} of {len(missing)} run(s) failed; fix the cause and "
                           f"run the sweep again (finished runs are kept):\n{lines}")
    task = configs[0].task if configs else runs.DEFAULT_TASK
    return with_labels(runs.load_runs(results, task), configs, ids)


def with_labels(frame: pd.DataFrame, configs: list, ids: list[str]) -> pd.DataFrame:
    """The rows of ``frame`` that are runs of ``configs``, in grid order, labelled as the grid
    names them (``dataset_id``, ``model_id``, ``profile`` of each config's ``labels``): a run
    trained for one profile and read through another is named by the reader's grid."""
    position = {name: i for i, name in enumerate(ids)}
    rows = frame[frame["run_id"].isin(position)].copy()
    rows = rows.iloc[rows["run_id"].map(position).argsort(kind="stable")]
    labels = pd.DataFrame([configs[position[name]].labels for name in rows["run_id"]],
                          index=rows.index)
    for column in labels.columns:
        rows[column] = labels[column]
    return rows.reset_index(drop=True)


def status(grid, *, profile="cpu", results=None, seeds=1) -> dict:
    """Counts of the grid's runs: ``done``, ``running`` (some process holds its lock), ``missing``;
    plus ``total``."""
    configs = resolve_grid(grid, profile, seeds)
    results = runs.root(results)
    counts = {"done": 0, "running": 0, "missing": 0}
    for config in configs:
        identity = config.identity()
        if runs.is_done(runs.run_dir(identity, results)):
            counts["done"] += 1
        elif runs.is_locked(identity, results):
            counts["running"] += 1
        else:
            counts["missing"] += 1
    return {**counts, "total": len(configs)}
