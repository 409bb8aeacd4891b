"""Saving regenerated figures and tables: one place, one naming rule, no half-written files.

Every figure goes to ``lmf.core.paths.figures_dir(profile)`` as PNG and PDF, every table as CSV and
Markdown, under the names the notebooks give them (``fig1_…`` … ``fig4_…``, ``table1_…`` …
``table6_…`` for the paper's items). Files are written to a temporary name and renamed, so an
interrupted notebook never leaves a truncated figure that looks finished. ``display_path`` turns
an output path into the string notebooks print: relative to the repository root, never a
machine path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from lmf.core.errors import ConfigError
from lmf.core.paths import figures_dir, repo_root, results_dir

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_name(name: str) -> str:
    if not _NAME.match(name) or name.endswith((".png", ".pdf", ".csv", ".md")):
        raise ConfigError(
            f"invalid output name {name!r}: use letters, digits, '_', '-', '.' and no extension "
            "(for example 'fig1_macro_f1')")
    return name


def _target(name: str, profile: str | None, suffix: str) -> Path:
    folder = figures_dir(profile)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{_check_name(name)}{suffix}"


def _write_atomically(path: Path, write) -> Path:
    """Call ``write(temporary_path)``, then rename the result onto ``path``."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def save_table(df: pd.DataFrame, name: str, profile: str | None = None, *,
               index: bool = False, float_format: str = "%.2f") -> list[Path]:
    """Write ``df`` as ``<name>.csv`` and ``<name>.md`` into ``figures/<profile>/``.

    Floats are rounded with ``float_format`` in both files (scores in the tables are
    percentages with two decimals, as in the paper). Returns the two paths.
    """
    csv = _write_atomically(
        _target(name, profile, ".csv"),
        lambda tmp: df.to_csv(tmp, index=index, float_format=float_format))
    markdown = df.to_markdown(index=index, floatfmt=float_format.removeprefix("%"))
    md = _write_atomically(
        _target(name, profile, ".md"), lambda tmp: tmp.write_text(markdown + "\n"))
    return [csv, md]


#: Metadata matplotlib writes by default that changes with the time or the installed version;
#: ``None`` removes a key (PNG: the Agg backend's ``Software``; PDF: the info dictionary's
#: ``Creator``, ``Producer`` and ``CreationDate``). Nothing else in either file varies between
#: processes: the PDF backend names its objects and font subsets deterministically.
FIGURE_METADATA = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
}


def save_figure(fig, name: str, profile: str | None = None, *, dpi: int = 150) -> list[Path]:
    """Write a matplotlib figure as ``<name>.png`` and ``<name>.pdf`` into ``figures/<profile>/``.

    Creation dates and software versions are left out of the files' metadata
    (:data:`FIGURE_METADATA`), so the same figure gives the same bytes in any process and with
    any matplotlib release that draws it alike. Returns the two paths.
    """
    paths = []
    for fmt, metadata in FIGURE_METADATA.items():
        paths.append(_write_atomically(
            _target(name, profile, f".{fmt}"),
            lambda tmp, fmt=fmt, metadata=metadata: fig.savefig(
                tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)))
    return paths


def display_path(path: str | os.PathLike) -> str:
    """``path`` as notebooks print it: relative to the repository root when inside it, else
    relative to the figures or results root (``$LMF_FIGURES/…``, ``$LMF_RESULTS/…``)."""
    path = Path(path).resolve()
    if path.is_relative_to(repo_root().resolve()):
        return path.relative_to(repo_root().resolve()).as_posix()
    for root, label in ((figures_dir(), "$LMF_FIGURES"), (results_dir(), "$LMF_RESULTS")):
        if path.is_relative_to(root.resolve()):
            return f"{label}/{path.relative_to(root.resolve()).as_posix()}"
    return path.name
