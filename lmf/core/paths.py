"""Where the project's data, results and figures live.

Every path is resolved from the repository root (the folder holding ``pyproject.toml``), never
from the current working directory, so notebooks, the CLI and tests agree wherever they run.
Each location can be moved with an environment variable:

==============  ====================  ===========================
location        default               override
==============  ====================  ===========================
data            ``<root>/data``       ``LMF_DATA``
results         ``<root>/results``    ``LMF_RESULTS``
figures         ``<root>/figures``    ``LMF_FIGURES``
==============  ====================  ===========================
"""

from __future__ import annotations

import os
from pathlib import Path

#: The ``lmf`` package folder (this module is ``lmf/core/paths.py``).
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def repo_root() -> Path:
    """The repository root: ``LMF_ROOT`` if set, else the folder above the package."""
    if env := os.environ.get("LMF_ROOT"):
        return Path(env).expanduser().resolve()
    return _PACKAGE_DIR.parent


def _location(variable: str, default: str) -> Path:
    if env := os.environ.get(variable):
        return Path(env).expanduser().resolve()
    return repo_root() / default


def data_dir() -> Path:
    """Root of raw datasets, prepared caches and the published tables (``data/paper``)."""
    return _location("LMF_DATA", "data")


def paper_dir() -> Path:
    """The published numbers, copied from the paper as TSV files (always in the repository)."""
    return repo_root() / "data" / "paper"


def results_dir() -> Path:
    """Root of the run store: one directory per training run."""
    return _location("LMF_RESULTS", "results")


def figures_dir(profile: str | None = None) -> Path:
    """Root of regenerated figures and tables; ``figures/<profile>/`` when a profile is given."""
    root = _location("LMF_FIGURES", "figures")
    return root / profile if profile else root


def notebooks_dir() -> Path:
    """The numbered notebooks."""
    return repo_root() / "notebooks"
