"""One run store and one figures folder for every notebook test of the session.

The run store and figures folder are temporary and shared: ``LMF_RESULTS`` and ``LMF_FIGURES``
are set here, at collection time, so the ``lmf reproduce`` fixture of ``test_reproduce.py`` and
the nbval items that pytest collects from ``notebooks/`` afterwards (``--nbval-lax`` in the
project's pytest options) use the same runs: the notebooks are trained once per session, and
the committed ``figures/cpu/`` is never overwritten by tests.

Both are shortened by the same ``TEST_PARAMETERS`` (fewer epochs, fewer bootstrap resamples):
``lmf reproduce -p`` injects them like papermill, and for nbval, which has no parameters, they
are appended to each notebook's ``parameters`` cell as it is collected. The cells nbval compares
(tagged ``nbval-check-output``) do not depend on them. Running ``pytest notebooks/`` alone uses the
notebooks' own parameters and the default ``results/`` and ``figures/``.
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


#: Parameters that shorten the notebooks in tests (the committed outputs use the defaults).
TEST_PARAMETERS = {"EPOCHS": 3, "N_BOOT": 100}


def pytest_collection_modifyitems(config, items):
    """Append ``TEST_PARAMETERS`` to the ``parameters`` cell nbval runs (only the names the
    notebook declares), as papermill would inject them."""
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        overrides = {k: v for k, v in TEST_PARAMETERS.items() if k in cell_parameters(cell.source)}
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
def test_parameters() -> dict:
    """``TEST_PARAMETERS``: the values that shorten the notebooks in tests."""
    return dict(TEST_PARAMETERS)


@pytest.fixture(scope="session")
def shortened() -> list[str]:
    """``-p NAME=VALUE`` arguments of ``TEST_PARAMETERS`` for ``lmf reproduce``."""
    return [f"-p{name}={value}" for name, value in TEST_PARAMETERS.items()]


@pytest.fixture(scope="session")
def reproduced(results_dir, shortened):
    """``lmf reproduce --profile cpu --results R -p TEST_PARAMETERS`` run once for the session."""
    return _run_lmf("reproduce", "--profile", "cpu", "--results", str(results_dir), *shortened)
