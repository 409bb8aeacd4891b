"""One run store and one figures folder for every notebook test of the session.

The run store and figures folder are temporary and shared: ``LMF_RESULTS`` and ``LMF_FIGURES``
are set here, at collection time, so the ``lmf reproduce`` fixture (``reproduced``) and the nbval
items that pytest collects from ``notebooks/`` afterwards (``--nbval-lax`` in the project's pytest
options) use the same runs: the notebooks are trained once per session, and the committed
``figures/cpu/`` is never overwritten by tests. Both run the notebooks with their own parameters,
exactly as ``make reproduce`` does, so the tables the session regenerates are the ones the
committed tables must equal (``test_committed_numbers.py``), and nbval's second execution of each
notebook finds every run finished. Running ``pytest notebooks/`` alone uses the default
``results/`` and ``figures/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="lmf-notebook-tests-"))
os.environ["LMF_RESULTS"] = str(_SESSION_DIR / "results")
os.environ["LMF_FIGURES"] = str(_SESSION_DIR / "figures")


def pytest_unconfigure(config):
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def _run_lmf(*args: str, timeout: float = 1800) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``python -m lmf.cli ARGS`` from a foreign working directory; return it and its wall
    time in seconds."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "lmf.cli", *args], capture_output=True,
                            text=True, timeout=timeout, cwd=_SESSION_DIR)
    return result, time.perf_counter() - start


@pytest.fixture(scope="session")
def run_lmf():
    """``run_lmf(*args)`` runs the CLI in a subprocess; returns (CompletedProcess, seconds)."""
    return _run_lmf


@pytest.fixture(scope="session")
def results_dir() -> Path:
    return Path(os.environ["LMF_RESULTS"])


@pytest.fixture(scope="session")
def figures_dir() -> Path:
    return Path(os.environ["LMF_FIGURES"]) / "cpu"


@pytest.fixture(scope="session")
def reproduced(results_dir):
    """``lmf reproduce --profile cpu --results R`` run once for the session (what
    ``make reproduce`` runs, into the session's store and figures folder)."""
    return _run_lmf("reproduce", "--profile", "cpu", "--results", str(results_dir))
