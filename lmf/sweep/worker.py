"""One run of a sweep, as any launcher executes it: log, train, report.

``lmf.classification.train.fit`` holds the run's lock (``lmf.core.runs.locked``), so two sweeps sharing a results
directory train a config once: the second waits, then finds it done; a killed sweep leaves no
stale lock, and the next one resumes the run from its last finished epoch. Everything the run
prints and any traceback go to ``<results>/logs/<run_id>.log``. Launchers get plain data (a config
dict and a path, never a model) and receive an outcome dict back, so a failing run never stops
the others.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from pathlib import Path

from lmf import tasks
from lmf.core import runs


def log_path(identity, results) -> Path:
    """Where the log of the run with ``identity`` goes: ``<results>/logs/<run_id>.log``."""
    return runs.root(results) / runs.LOGS / f"{runs.run_id(identity)}.log"


def run_one(config: dict, results: str) -> dict:
    """Train the config given as plain data under ``results``; never raises.

    Returns ``{"run_id", "ok", "error", "log", "seconds"}``; ``error`` is the exception's
    one-line message, ``seconds`` the wall time of the attempt.
    """
    start = time.perf_counter()
    outcome = {"run_id": "-".join(str(config.get(k)) for k in ("dataset", "model", "loss")),
               "ok": True, "error": None, "log": None, "seconds": None}
    try:
        run = tasks.config_from_dict(config)
        fit = tasks.fit_of(run)
        identity = run.identity()
        log = log_path(identity, results)
        log.parent.mkdir(parents=True, exist_ok=True)
    except Exception as error:  # a config the worker cannot even name must not stop the sweep
        return {**outcome, "ok": False, "error": f"{type(error).__name__}: {error}"}
    outcome.update(run_id=runs.run_id(identity), log=str(log))
    with open(log, "a", buffering=1) as out:
        print(f"== {outcome['run_id']} (pid {os.getpid()})", file=out)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                fit(run, results, quiet=True)
            print("== done", file=out)
        except Exception as error:  # one failing run must not stop the sweep
            traceback.print_exc(file=out)
            outcome.update(ok=False, error=f"{type(error).__name__}: {error}")
    outcome["seconds"] = time.perf_counter() - start
    return outcome
