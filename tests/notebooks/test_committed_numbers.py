"""The committed tables regenerate: every ``figures/cpu/*.csv`` is what the notebooks make now.

The session executes the notebooks once with their own parameters, as ``make reproduce`` does,
into a temporary run store and figures folder (``conftest.py``: by nbval, or by ``lmf reproduce``
when nbval does not run them all; the committed ``figures/cpu/`` is never written); each
committed table is compared with its
regenerated namesake (``lmf.core.regression``): exactly when this process computes with the pinned
numerics (``lmf.core.numerics.pinned()``), else within one unit of the last printed digit, with a
warning saying why. One test per table, so a failure names it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from lmf.core import numerics
from lmf.core.regression import compare_frames, read_table

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "figures" / "cpu"
TABLES = sorted(COMMITTED.glob("*.csv"))


@pytest.fixture(scope="module")
def tables(regenerated, figures_dir) -> Path:
    """The folder of the tables the session's execution of the notebooks wrote."""
    assert regenerated.ok, regenerated.error
    return figures_dir


def test_tables_are_committed():
    assert TABLES, f"no committed tables in {COMMITTED}"


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)  # the first one may wait for ``lmf reproduce`` (conftest.py)
@pytest.mark.parametrize("committed", TABLES, ids=lambda path: path.stem)
def test_committed_table_regenerates(committed, tables):
    path = tables / committed.name
    assert path.is_file(), f"{committed.stem} is committed but no notebook writes it any more"
    exact = numerics.pinned()
    if not exact:
        warnings.warn(
            f"numerics not pinned ({numerics.obstacle() or 'see lmf.core.numerics'}): "
            f"{committed.stem} is compared within one unit of its last printed digit, "
            "not exactly", stacklevel=1)
    report = compare_frames(committed.stem, read_table(committed), read_table(path),
                            exact=exact)
    assert not report.failed, report.line()


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_every_regenerated_table_is_committed(tables):
    committed = {path.name for path in TABLES}
    new = sorted(path.stem for path in tables.glob("*.csv") if path.name not in committed)
    assert not new, f"tables the notebooks write but figures/cpu/ lacks: {', '.join(new)}"
