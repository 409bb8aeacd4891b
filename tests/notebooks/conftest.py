"""One run store and one figures folder for every notebook test of the session.

The run store and figures folder are temporary and shared: ``LMF_RESULTS`` and ``LMF_FIGURES``
are set here, at collection time, so the ``lmf reproduce`` fixture (``reproduced``) and the nbval
items that pytest collects from ``notebooks/`` afterwards (``--nbval-lax`` in the project's pytest
options) use the same runs: the notebooks are trained once per session, and the committed
``figures/cpu/`` is never overwritten by tests. Both run the notebooks with their own parameters,
exactly as ``make reproduce`` does, so the tables the session regenerates are the ones the
committed tables must equal (``test_committed_numbers.py``), and nbval's second execution of each
notebook finds every run finished. nbval's execution takes fewer bootstrap resamples
(``NBVAL_PARAMETERS``, appended to each notebook's ``parameters`` cell as it is collected): it
runs after ``tests/`` (``testpaths``), so the tables it rewrites are never the ones compared,
and the cells it compares (tagged ``nbval-check-output``) do not depend on them. Running
``pytest notebooks/`` alone uses the default ``results/`` and ``figures/``.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from lmf.parameters import cell_parameters

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="lmf-notebook-tests-"))
os.environ["LMF_RESULTS"] = str(_SESSION_DIR / "results")
os.environ["LMF_FIGURES"] = str(_SESSION_DIR / "figures")


#: Parameters nbval's second execution of the notebooks takes (the bootstraps are its cost once
#: every run is trained).
NBVAL_PARAMETERS = {"N_BOOT": 100}


def pytest_collection_modifyitems(config, items):
    """Append ``NBVAL_PARAMETERS`` to the ``parameters`` cell nbval runs (only the names the
    notebook declares), as papermill would inject them."""
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        overrides = {k: v for k, v in NBVAL_PARAMETERS.items() if k in cell_parameters(cell.source)}
        if overrides:
            item.cell = copy.deepcopy(cell)
            item.cell.source += "\n# test parameters (tests/notebooks/conftest.py)\n" + "\n".join(
                f"{name} = {value!r}" for name, value in overrides.items())


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
