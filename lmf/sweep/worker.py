"""One run of a sweep, as any launcher executes it: lock, log, train, report.

The lock (``fcntl.flock`` on ``<results>/logs/<run_id>.lock``) makes two sweeps sharing a results
directory train a config once: the second waits, then finds it done. The kernel drops the lock
when its process dies (SIGKILL included), so a killed sweep leaves no stale lock; ``lmf.train.fit``
resumes the run from its last finished epoch. Everything the run prints and any traceback go to
``<results>/logs/<run_id>.log``. Launchers get plain data (a config dict and a path, never a model)
and receive a :class:`Outcome` dict back, so a failing run never stops the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import traceback
from pathlib import Path

from lmf import runs

LOGS = "logs"


def log_path(config, results) -> Path:
    """Where the log of ``config``'s run goes: ``<results>/logs/<run_id>.log``."""
    return Path(results) / LOGS / f"{runs.run_id(config)}.log"


def lock_path(config, results) -> Path:
    return Path(results) / LOGS / f"{runs.run_id(config)}.lock"


def is_running(config, results) -> bool:
    """True while some process holds the run's lock (i.e. is training it right now)."""
    path = lock_path(config, results)
    if not path.is_file():
        return False
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def run_one(config: dict, results: str) -> dict:
    """Train the config given as plain data under ``results``; never raises.

    Returns ``{"run_id", "ok", "error", "log"}``; ``error`` is the exception's one-line message.
    """
    from lmf.train import RunConfig, fit  # a worker process imports the engine on use

    config = RunConfig.from_dict(config)
    log = log_path(config, results)
    log.parent.mkdir(parents=True, exist_ok=True)
    outcome = {"run_id": runs.run_id(config), "ok": True, "error": None, "log": str(log)}
    with open(lock_path(config, results), "a") as lock, open(log, "a", buffering=1) as out:
        fcntl.flock(lock, fcntl.LOCK_EX)
        print(f"== {outcome['run_id']} (pid {os.getpid()})", file=out)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                fit(config, results, quiet=True)
            print("== done", file=out)
        except Exception as error:  # one failing run must not stop the sweep
            traceback.print_exc(file=out)
            outcome.update(ok=False, error=f"{type(error).__name__}: {error}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return outcome

