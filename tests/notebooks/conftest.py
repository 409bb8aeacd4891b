"""One run store, one figures folder and one execution of the notebooks for the whole session.

The run store and figures folder are temporary and shared: ``LMF_RESULTS`` and ``LMF_FIGURES``
are set here, at collection time, so every notebook test of the session reads the same runs and
tables, and the committed ``figures/cpu/`` is never overwritten by tests.

The notebooks are executed once per session, with their own parameters, exactly as
``make reproduce`` runs them: by nbval, whose cells (the items pytest collects from
``notebooks/``, ``--nbval-lax`` in the project's pytest options) are moved to run just before
``tests/notebooks/``, so they train the cpu grids, write every table and compare the committed
cells tagged ``nbval-check-output``. The ``regenerated`` fixture then hands their outcome to the
tests that read the tables and runs (``test_committed_numbers.py`` compares every committed
table with what nbval just wrote). Where the session does not execute every notebook with nbval
(``pytest tests/notebooks`` alone, a ``-k`` that deselects cells), ``regenerated`` runs
``lmf reproduce --profile cpu`` instead. ``pytest notebooks/`` alone uses the default
``results/`` and ``figures/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lmf.reproduce import find_notebooks

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="lmf-notebook-tests-"))
os.environ["LMF_RESULTS"] = str(_SESSION_DIR / "results")
os.environ["LMF_FIGURES"] = str(_SESSION_DIR / "figures")
_TESTS = Path(__file__).resolve().parent


@dataclass(eq=False)  # a plugin: pluggy keeps plugins in sets, by identity
class NotebookCells:
    """The nbval cells of the numbered notebooks in this session and how each one ended, by
    notebook file name: a plugin, so that it hears the reports of items outside this folder."""

    collected: dict[str, set[str]] = field(default_factory=dict)
    passed: dict[str, set[str]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def pytest_runtest_logreport(self, report) -> None:
        name = _notebook_of(report.nodeid)
        if name not in self.collected:
            return
        self.seconds += report.duration
        if report.failed:
            self.failed.append(report.nodeid)
        elif report.when == "call" and report.outcome in ("passed", "skipped"):
            self.passed.setdefault(name, set()).add(report.nodeid)

    def ran_every_notebook(self) -> bool:
        """Every numbered notebook's cells were collected and each one has ended (or one
        failed)."""
        names = {path.name for path in find_notebooks()}
        return names <= set(self.collected) and (bool(self.failed) or all(
            self.passed.get(name, set()) == self.collected[name] for name in names))


def _notebook_of(nodeid: str) -> str | None:
    """``04_per_class_analysis.ipynb`` for an nbval cell ``notebooks/04_….ipynb::Cell 3``."""
    path = nodeid.split("::", 1)[0]
    return Path(path).name if path.endswith(".ipynb") else None


def pytest_configure(config):
    config.pluginmanager.register(NotebookCells(), "lmf-notebook-cells")


def pytest_collection_modifyitems(config, items):
    """Run the nbval cells of the numbered notebooks right before ``tests/notebooks/``, in
    their own order, and remember them."""
    cells = config.pluginmanager.get_plugin("lmf-notebook-cells")
    numbered = {path.name for path in find_notebooks()}
    notebook_items = [i for i in items if _notebook_of(i.nodeid) in numbered]
    if not notebook_items:
        return
    for item in notebook_items:
        cells.collected.setdefault(_notebook_of(item.nodeid), set()).add(item.nodeid)
    others = [i for i in items if _notebook_of(i.nodeid) not in numbered]
    first = next((k for k, item in enumerate(others)
                  if Path(item.path).resolve().is_relative_to(_TESTS)), len(others))
    items[:] = others[:first] + notebook_items + others[first:]


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


@dataclass(frozen=True)
class Regeneration:
    """How the session's notebooks ran: by ``nbval`` or ``lmf reproduce``, in how many seconds,
    and the error that stopped them (``None``: every notebook ran to its end)."""

    by: str
    seconds: float
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@pytest.fixture(scope="session")
def regenerated(request, results_dir) -> Regeneration:
    """The session's one execution of the numbered notebooks with their own parameters (see the
    module docstring): nbval's, when it ran them all, else ``lmf reproduce --profile cpu``."""
    cells = request.config.pluginmanager.get_plugin("lmf-notebook-cells")
    if cells.ran_every_notebook():
        error = (f"notebook cells failed under nbval: {', '.join(cells.failed)}"
                 if cells.failed else None)
        return Regeneration("nbval", cells.seconds, error)
    result, seconds = _run_lmf("reproduce", "--profile", "cpu", "--results", str(results_dir))
    return Regeneration("lmf reproduce", seconds,
                        None if result.returncode == 0 else result.stderr[-3000:])
