"""The committed tables regenerate: every ``figures/cpu/*.csv`` is what the notebooks make now.

The suite's shared ``lmf reproduce`` (``conftest.py``) is shortened by ``TEST_PARAMETERS``, so
its tables are not the committed ones. This module reproduces once more with the notebooks' own
parameters, as ``make reproduce`` does, into a run store and a figures folder of its own (the
committed ``figures/cpu/`` is never written), then compares each committed table with its
regenerated namesake (``lmf.regression``): exactly when this process computes with the pinned
numerics (``lmf.numerics.pinned()``), else within one unit of the last printed digit, with a
warning saying why. One test per table, so a failure names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from lmf import numerics
from lmf.regression import compare_frames, read_table

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "figures" / "cpu"
TABLES = sorted(COMMITTED.glob("*.csv"))


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """``lmf reproduce --profile cpu`` with the notebooks' own parameters, into temporary
    folders; the folder of its cpu figures and tables."""
    root = tmp_path_factory.mktemp("committed-numbers")
    env = {**os.environ, "LMF_RESULTS": str(root / "results"),
           "LMF_FIGURES": str(root / "figures")}
    result = subprocess.run(
        [sys.executable, "-m", "lmf.cli", "reproduce", "--profile", "cpu",
         "--results", str(root / "results")],
        capture_output=True, text=True, timeout=3000, cwd=root, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return root / "figures" / "cpu"


def test_tables_are_committed():
    assert TABLES, f"no committed tables in {COMMITTED}"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(3600)  # the first test reproduces every notebook at full length
@pytest.mark.parametrize("committed", TABLES, ids=lambda path: path.stem)
def test_committed_table_regenerates(committed, regenerated):
    path = regenerated / committed.name
    assert path.is_file(), f"{committed.stem} is committed but no notebook writes it any more"
    exact = numerics.pinned()
    if not exact:
        warnings.warn(
            f"numerics not pinned ({numerics.obstacle() or 'see lmf.numerics'}): "
            f"{committed.stem} is compared within one unit of its last printed digit, "
            "not exactly", stacklevel=1)
    report = compare_frames(committed.stem, read_table(committed), read_table(path),
                            exact=exact)
    assert not report.failed, report.line()


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(3600)
def test_every_regenerated_table_is_committed(regenerated):
    committed = {path.name for path in TABLES}
    new = sorted(path.stem for path in regenerated.glob("*.csv") if path.name not in committed)
    assert not new, f"tables the notebooks write but figures/cpu/ lacks: {', '.join(new)}"
