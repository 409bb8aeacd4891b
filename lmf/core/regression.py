"""Compare regenerated tables with the committed ones, table by table, cell by cell.

The committed folder (``figures/cpu/`` of the repository) holds every table as CSV and Markdown
(``lmf.core.outputs.save_table``). The CSV files are the numbers: the Markdown twins are the same
values formatted for reading, so only CSV files are compared. For every committed ``*.csv``
:func:`compare_tables` reads it and its regenerated namesake as text and reports one
:class:`TableReport`:

=========  ==========================================================================
status     meaning
=========  ==========================================================================
same       same shape, columns and cells (text equal)
close      numeric cells differ by at most the tolerance (only when not ``exact``)
drifted    another shape or columns, a changed label, or a number off by more
missing    committed, but not regenerated
new        regenerated, but not committed
=========  ==========================================================================

**Tolerance.** With the pinned CPU numerics (``lmf.core.numerics.pinned()``) the tables regenerate
exactly, and ``exact=True`` accepts no difference at all, not even ``1.0`` for ``1.00``.
Without the pin, libraries add the same numbers in another order and the floats differ in their
last bits; rounding to the printed decimals turns that into at most one unit of the last printed
digit. So ``exact=False`` accepts, per numeric cell, a difference of up to one unit of the last
decimal the committed cell prints (``0.01`` for ``82.24``, ``0.001`` for ``0.852``), plus a
relative ``1e-9`` for the float parsing; integers (counts, no decimal point) must be equal.
Labels and every non-numeric cell must always be equal.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

#: Statuses that mean the regenerated tables are not the committed ones.
FAILING = ("drifted", "missing", "new")
#: Relative slack for parsing floats, on top of the last-digit tolerance (``exact=False``).
RTOL = 1e-9


@dataclass(frozen=True)
class TableReport:
    """How one regenerated table compares with its committed version.

    ``largest`` is the largest absolute difference between numeric cells (``None`` when no
    numbers could be compared), ``where`` its place as ``(row, column)``, rows counted from 1
    after the header; ``detail`` says what drifted."""

    name: str
    status: str
    largest: float | None = None
    where: tuple[int, str] | None = None
    detail: str = ""

    @property
    def failed(self) -> bool:
        """Whether this table is not what was committed (drifted, missing or new)."""
        return self.status in FAILING

    def line(self) -> str:
        """One line for a person: the table, its status, the largest difference and where."""
        parts = [f"{self.name}: {self.status}"]
        if self.largest is not None and self.largest > 0:
            row, column = self.where
            parts.append(f"largest difference {self.largest:.6g} at row {row}, column "
                         f"{column!r}")
        if self.detail:
            parts.append(self.detail)
        return "; ".join(parts)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table as text cells: nothing parsed, nothing turned into NaN."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _number(text: str) -> float | None:
    """``text`` as a float when it is a number, else ``None``."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if text.strip() else None


def last_digit(text: str) -> float:
    """One unit of the last decimal ``text`` prints (``"82.24"`` -> 0.01); 0 for an integer."""
    if not any(mark in text.lower() for mark in (".", "e")):
        return 0.0
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    return 10.0 ** exponent if isinstance(exponent, int) else 0.0


def _allowed(committed: str, value: float, exact: bool) -> float:
    """How far a regenerated number may be from the committed cell ``committed``."""
    if exact:
        return -1.0  # any textual difference drifts
    return last_digit(committed) + RTOL * abs(value)


def compare_frames(name: str, committed: pd.DataFrame, regenerated: pd.DataFrame, *,
                   exact: bool) -> TableReport:
    """Compare two tables read as text (see the module docstring for the rules)."""
    if list(committed.columns) != list(regenerated.columns):
        return TableReport(name, "drifted", detail=(
            f"columns {list(regenerated.columns)} instead of {list(committed.columns)}"))
    if committed.shape != regenerated.shape:
        return TableReport(name, "drifted", detail=(
            f"{regenerated.shape[0]} rows instead of {committed.shape[0]}"))
    largest, where, detail, close = None, None, "", False
    for column in committed.columns:
        pairs = zip(committed[column], regenerated[column], strict=True)
        for row, (old, new) in enumerate(pairs, start=1):
            if old == new:
                continue
            a, b = _number(old), _number(new)
            if a is None or b is None or math.isnan(a) or math.isnan(b):
                detail = detail or f"row {row}, column {column!r}: {new!r} instead of {old!r}"
                continue
            difference = abs(a - b)
            if largest is None or difference > largest:
                largest, where = difference, (row, column)
            if difference <= _allowed(old, a, exact):
                close = True
            else:
                detail = detail or f"row {row}, column {column!r}: {new} instead of {old}"
    status = "drifted" if detail else ("close" if close else "same")
    return TableReport(name, status, largest, where, detail)


def compare_tables(regenerated: str | os.PathLike, committed: str | os.PathLike, *,
                   exact: bool, partial: bool = False) -> list[TableReport]:
    """Compare every ``*.csv`` of the folder ``committed`` with its namesake in ``regenerated``.

    ``exact``: accept no difference (with the pinned numerics), else the tolerance of the
    module docstring. ``partial``: only some notebooks ran, so committed tables that were not
    regenerated are left out instead of reported ``missing``. Regenerated tables that are not
    committed are reported ``new``. Reports are sorted by table name."""
    regenerated, committed = Path(regenerated), Path(committed)
    old = {p.stem: p for p in committed.glob("*.csv")}
    new = {p.stem: p for p in regenerated.glob("*.csv")} if regenerated.is_dir() else {}
    reports = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            if not partial:
                reports.append(TableReport(name, "missing", detail="not regenerated"))
        elif name not in old:
            reports.append(TableReport(name, "new", detail="not in the committed tables"))
        else:
            reports.append(compare_frames(name, read_table(old[name]), read_table(new[name]),
                                          exact=exact))
    return reports


def summary(reports: list[TableReport]) -> str:
    """One line: how many tables were compared and how many are not the committed ones."""
    failed = [r for r in reports if r.failed]
    counts = ", ".join(f"{sum(r.status == s for r in reports)} {s}"
                       for s in ("same", "close", "drifted", "missing", "new")
                       if any(r.status == s for r in reports))
    verdict = "tables differ from the committed ones" if failed else "tables as committed"
    return f"{len(reports)} table(s) compared: {counts or 'none'}; {verdict}"
