"""Local sweep workers end with the sweep: a sweep killed with SIGKILL leaves no worker training
runs that nobody waits for."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest


def _gone(pids, within: float) -> list[int]:
    """The pids of ``pids`` still alive (zombies count as gone) after up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_for(condition, within: float, what: str):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what}")


@pytest.mark.slow
def test_workers_of_a_killed_sweep_exit(tmp_path):
    results = tmp_path / "results"
    sweep = subprocess.Popen(
        [sys.executable, "-m", "lmf.cli", "sweep", "hparams", "--profile", "cpu", "--jobs", "2",
         "--results", str(results)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    workers = []
    try:
        logs = results / "logs"
        _wait_for(lambda: len(list(logs.glob("*.log"))) >= 2 if logs.is_dir() else False, 240,
                  "both workers to start a run")
        workers += [child.pid for child in psutil.Process(sweep.pid).children(recursive=True)]
        assert len(workers) >= 2
        sweep.kill()
        sweep.wait()
        assert _gone(workers, within=10) == []
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
        for pid in _gone(workers, within=0):  # never leave a worker of a failed check behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


#: A worker: ends with its parent (``argv[2]``), the kernel's way or the watchdog's (``argv[1]``).
WORKER = """
import sys, time
from lmf.sweep import parent
if sys.argv[1] == "watchdog":
    parent._kernel_kills_on_parent_death = lambda: False
    parent.POLL_SECONDS = 0.1
parent.die_with_parent(int(sys.argv[2]))
print("ready", flush=True)
time.sleep(120)
"""

#: A parent that starts WORKER (``argv[1]`` its mode), prints its pid, then waits to be killed.
PARENT = """
import os, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", sys.argv[2], sys.argv[1], str(os.getpid())],
                          stdout=subprocess.PIPE, text=True)
assert worker.stdout.readline() == "ready\\n"
print(worker.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("mode", ["kernel", "watchdog"])
def test_a_worker_exits_when_its_parent_is_killed(mode):
    middle = subprocess.Popen([sys.executable, "-c", PARENT, mode, WORKER],
                              stdout=subprocess.PIPE, text=True)
    try:
        worker = int(middle.stdout.readline())
        assert _alive(worker)
        middle.kill()
        middle.wait()
        assert _gone([worker], within=5) == []
    finally:
        middle.kill()


def test_a_worker_whose_parent_died_before_it_asked_exits_at_once():
    code = ("import os; from lmf.sweep.parent import die_with_parent; "
            "die_with_parent(os.getppid() + 1); print('still here')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (1, "")
